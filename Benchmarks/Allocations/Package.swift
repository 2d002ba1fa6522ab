// swift-tools-version:6.1
import PackageDescription

/// Allocations per request on the server's real path, counted by malloc-interposer: a Loopwork
/// `App` in this process, driven over loopback by a client that does not allocate. The counts
/// depend on the code, not on the machine, so CI compares them with `thresholds.json`.
///
/// malloc-interposer alone rather than ordo-one/benchmark: its counters are all that is needed,
/// and the benchmark framework would add its own dependencies to every CI build.
/// Run: `./check.sh` (builds in release mode, then compares with the thresholds).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "AllocationCounts",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Loopwork", path: "../.."),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
    ],
    targets: [
        // In C: the per-allocation hook needs a thread-local recursion guard and must not allocate.
        .target(name: "AllocationSites"),
        .executableTarget(
            name: "AllocationCounts",
            dependencies: [
                "AllocationSites",
                .product(name: "Loopwork", package: "Loopwork"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
