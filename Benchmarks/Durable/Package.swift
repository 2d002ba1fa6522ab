// swift-tools-version:6.1
import PackageDescription

/// Durable-queue throughput and schedule latency: `durable-bench work|produce|serve`, driven by
/// `../run-durable-bench.sh` beside PgQueuer and procrastinate (`peers.py`) on one PostgreSQL.
let package = Package(
    name: "DurableBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Loopwork", path: "../.."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        .executableTarget(
            name: "DurableBench",
            dependencies: [
                .product(name: "Loopwork", package: "Loopwork"),
                .product(name: "LoopworkDurable", package: "Loopwork"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
