// swift-tools-version:6.1
import PackageDescription

/// Parser throughput benchmark: LoopworkHTTP against SwiftNIO's HTTPRequestDecoder (llhttp) in one process.
///
/// LoopworkHTTP is compiled from the repository's sources through the symlink Sources/LoopworkHTTP, so the
/// benchmark builds even while other targets of the main package are mid-edit. Run: `swift run -c release`.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "HTTPParserBenchmark",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    ],
    targets: [
        .target(
            name: "LoopworkHTTP",
            dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "HTTPParserBenchmark",
            dependencies: [
                "LoopworkHTTP",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
