// swift-tools-version:6.1
import PackageDescription

// A user's package: depends on Loopwork by path, as a real project would by URL.
let package = Package(
    name: "hello",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Loopwork", path: "../..")
    ],
    targets: [
        .target(
            name: "HelloRoutes", dependencies: [.product(name: "Loopwork", package: "Loopwork")],
            path: "Sources/HelloRoutes"),
        .executableTarget(
            name: "Hello", dependencies: ["HelloRoutes", .product(name: "Loopwork", package: "Loopwork")],
            path: "Sources/Hello"),
        .testTarget(
            name: "HelloTests",
            dependencies: [
                "HelloRoutes",
                .product(name: "Loopwork", package: "Loopwork"),
                .product(name: "LoopworkTesting", package: "Loopwork"),
            ]),
    ]
)
