// swift-tools-version:6.1
import PackageDescription

// The libFuzzer target for request bodies streaming through HTTPConnection and InboundBody.
// Built by scripts/fuzz-streams.sh (which adds the sanitizer flags), not by the root package.
let package = Package(
    name: "StreamFuzz",
    platforms: [.macOS(.v15)],
    // A static library, linked into the fuzzer by the script: an executable target would get
    // SwiftPM's renamed entry point, which clashes with libFuzzer's `main`.
    products: [
        .library(name: "StreamFuzz", type: .static, targets: ["StreamFuzz"])
    ],
    dependencies: [
        .package(name: "Loopwork", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
    ],
    targets: [
        .target(
            name: "StreamFuzz",
            dependencies: [
                .product(name: "Loopwork", package: "Loopwork"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [
                .enableUpcomingFeature("InternalImportsByDefault"),
                .enableUpcomingFeature("ExistentialAny"),
                .enableUpcomingFeature("MemberImportVisibility"),
            ]
        )
    ]
)
