// swift-tools-version:6.1
import PackageDescription

/// Every Swift target opts into the same upcoming features: internal imports keep libuv and
/// codec types out of public API (the compiler enforces the layering), `any` is explicit, and
/// members are only visible from modules a file imports itself.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Loopwork",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Loopwork", targets: ["Loopwork"]),
        .library(name: "LoopworkTesting", targets: ["LoopworkTesting"]),
        .library(name: "LoopworkPostgres", targets: ["LoopworkPostgres"]),
        .library(name: "LoopworkDurable", targets: ["LoopworkDurable"]),
        .executable(name: "loopwork-demo", targets: ["LoopworkDemo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibUV",
            path: "Modules/CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .target(
            name: "LoopworkUV",
            dependencies: ["CLibUV"],
            swiftSettings: strictSettings
        ),
        .systemLibrary(
            name: "CLibPQ",
            path: "Modules/CLibPQ",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "LoopworkPostgres",
            dependencies: ["CLibPQ", "LoopworkUV"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "LoopworkHTTP",
            dependencies: [.product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Loopwork",
            dependencies: [
                "LoopworkUV",
                "LoopworkHTTP",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "LoopworkDurable",
            dependencies: [
                "Loopwork",
                "LoopworkPostgres",
                "LoopworkUV",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "LoopworkTesting",
            dependencies: [
                "Loopwork",
                "LoopworkUV",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "LoopworkDemo",
            dependencies: [
                "Loopwork",
                "LoopworkDurable",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // Served by `/files/` from the source tree (see `DemoCommand.staticDir`); the
            // container copies the folder beside the binary.
            exclude: ["Static", "README.md"],
            swiftSettings: strictSettings
        ),
        // What the test targets share (the `Gate` they await instead of sleeping); not a product.
        .target(
            name: "LoopworkTestSupport",
            dependencies: ["LoopworkUV"],
            path: "Tests/Support",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LoopworkUVTests",
            dependencies: ["LoopworkUV", "LoopworkTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LoopworkPostgresTests",
            dependencies: ["LoopworkPostgres", "LoopworkUV"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LoopworkDurableTests",
            dependencies: [
                "LoopworkDurable",
                "Loopwork",
                "LoopworkTesting",
                "LoopworkPostgres",
                "LoopworkUV",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LoopworkHTTPTests",
            dependencies: ["LoopworkHTTP", .product(name: "HTTPTypes", package: "swift-http-types")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LoopworkTests",
            dependencies: [
                "Loopwork",
                "LoopworkTestSupport",
                "LoopworkTesting",
                "LoopworkUV",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "LoopworkIntegrationTests",
            dependencies: ["LoopworkDemo"],
            swiftSettings: strictSettings
        ),
    ]
)
