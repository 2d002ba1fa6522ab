// swift-tools-version:6.1
import PackageDescription

// Pins the sources the differential fuzz target is compiled from; scripts/fuzz-differential.sh
// only resolves this package (into .build-fuzz-diff) and builds with swiftc and clang itself, so
// llhttp (swift-nio's vendored CNIOLLHTTP) never reaches the library or its package graph.
let package = Package(
    name: "DifferentialFuzz",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.3.0"),
    ],
    targets: []
)
