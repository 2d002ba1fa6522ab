import AllocationSites
import MallocInterposerSwift

#if canImport(Glibc)
    import Glibc
#endif

/// `--sites`: runs one scenario with a stack recorded for every allocation, then ranks where
/// they come from, per request. Names come from `llvm-symbolizer` (with inlined frames, from the
/// release build's debug info) and `swift demangle`, run once the counting is over.
func reportSites(of scenario: Scenario, named name: String, options: Options, tasksRun: inout Int) {
    let client = RawClient(port: scenario.port)
    for _ in 0..<options.warmup { scenario.perform(on: client, tasksRun: &tasksRun) }
    let requests = options.sitesRequests
    guard allocation_sites_prepare(1 << 20, 48) == 1 else { fail("cannot reserve the stack buffer") }

    MallocInterposerSwift.reset()
    MallocInterposerSwift.setAllocationHook(allocation_sites_record)
    MallocInterposerSwift.hook()
    for _ in 0..<requests { scenario.perform(on: client, tasksRun: &tasksRun) }
    MallocInterposerSwift.unhook()
    MallocInterposerSwift.setAllocationHook(nil)
    let statistics = MallocInterposerSwift.getStatistics()

    var stacks: [(frames: [UInt], size: Int)] = []
    for index in 0..<allocation_sites_recorded() {
        var frames: UnsafePointer<UnsafeMutableRawPointer?>?
        var size = 0
        let depth = Int(allocation_sites_stack(index, &frames, &size))
        // A return address points after its call; one byte back is inside the call instruction.
        let addresses = (0..<depth).map { UInt(bitPattern: frames![$0]) - ($0 == 0 ? 0 : 1) }
        stacks.append((addresses, size))
    }
    let symbols = Symbolizer(addresses: Set(stacks.flatMap(\.frames)))
    let perRequest = Double(requests)

    output(
        """
        \(name): \(requests) requests after \(options.warmup) warm-up requests; \
        \(format(Double(statistics.mallocCount) / perRequest)) allocations and \
        \(format(Double(statistics.mallocBytesCount) / perRequest, decimals: 0)) bytes per request \
        (\(stacks.count) stacks recorded, \(allocation_sites_dropped()) dropped). Per request:

        """)

    struct Tally {
        var count = 0
        var bytes = 0
        var detail: [String: Int] = [:]
    }
    var byProjectFrame: [String: Tally] = [:]
    var byStack: [String: Tally] = [:]
    for stack in stacks {
        let frames = stack.frames.flatMap { symbols.frames(at: $0) }
        // The first Swift frame is the code that asked for memory; the C frame below it says how
        // (swift_allocObject: an object, closure context or array buffer; swift_task_create: a
        // task; swift_task_alloc: a task's own slab).
        let firstSwift = frames.firstIndex { $0.mangled.hasPrefix("$s") } ?? frames.count
        let how = frames[..<firstSwift].last { !Symbolizer.isAllocatorEntry($0.mangled) }?.name ?? "malloc"
        let ownerFrame = frames[firstSwift...].first { Symbolizer.isProjectCode($0.mangled) }
        let owner = ownerFrame?.name ?? "(outside Loopwork)"
        let caller = firstSwift < frames.count ? frames[firstSwift].name : how
        let at = ownerFrame.map { " at \($0.location)" } ?? ""
        byProjectFrame[owner, default: Tally()].count += 1
        byProjectFrame[owner, default: Tally()].bytes += stack.size
        byProjectFrame[owner, default: Tally()].detail["\(how) ← \(caller)\(at)", default: 0] += 1
        let runtime = frames[..<firstSwift].filter { !Symbolizer.isAllocatorEntry($0.mangled) }.map(\.name)
        let chain =
            ((runtime.isEmpty ? ["malloc"] : runtime)
            + frames[firstSwift...].prefix(10).map { "\($0.name) (\($0.location))" })
            .joined(separator: "\n        ← ")
        byStack[chain, default: Tally()].count += 1
        byStack[chain, default: Tally()].bytes += stack.size
    }

    output("By the first function of Loopwork on the stack:")
    for (owner, tally) in byProjectFrame.sorted(by: { $0.value.count > $1.value.count }) {
        output(
            "\(pad(format(Double(tally.count) / perRequest), 7))  \(pad(format(Double(tally.bytes) / perRequest, decimals: 0), 6)) B  \(owner)"
        )
        for (detail, count) in tally.detail.sorted(by: { $0.value > $1.value }) {
            output("                    \(pad(format(Double(count) / perRequest), 6))  \(detail)")
        }
    }
    output("\nWhole stacks (innermost first):")
    for (chain, tally) in byStack.sorted(by: { $0.value.count > $1.value.count }) {
        output(
            "\(pad(format(Double(tally.count) / perRequest), 7))  \(pad(format(Double(tally.bytes) / perRequest, decimals: 0), 6)) B  \(chain)\n"
        )
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

/// Turns return addresses into function names, inlined frames included.
struct Symbolizer {
    struct Frame {
        let mangled: String
        let name: String
        /// `File.swift:line` of the call, from the debug info.
        let location: String
    }

    private var frames: [UInt: [Frame]] = [:]

    func frames(at address: UInt) -> [Frame] {
        frames[address] ?? [Frame(mangled: "?", name: "0x" + String(address, radix: 16), location: "?")]
    }

    static func isAllocatorEntry(_ mangled: String) -> Bool {
        [
            "malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc", "replacement_", "allocation_sites_",
            "count_malloc", "swift_slowAlloc",
        ].contains { mangled.hasPrefix($0) }
    }

    /// A function defined in one of Loopwork's modules (or this benchmark's routes).
    static func isProjectCode(_ mangled: String) -> Bool {
        ["$s8Loopwork", "$s12LoopworkHTTP", "$s10LoopworkUV", "$s16AllocationCounts"].contains { mangled.hasPrefix($0) }
    }

    init(addresses: Set<UInt>) {
        // Group by the object file each address is in, as llvm-symbolizer reads one at a time.
        var byObject: [String: [(address: UInt, offset: UInt)]] = [:]
        for address in addresses {
            var name: UnsafePointer<CChar>?
            var loaded: UnsafeRawPointer?
            guard allocation_sites_object(UnsafeRawPointer(bitPattern: address), &name, &loaded) != 0,
                let base = loaded
            else { continue }
            var path = name.map { String(cString: $0) } ?? ""
            if path.isEmpty || !path.hasPrefix("/") { path = Self.executablePath() }
            // A position-independent object is linked at 0, so its addresses are offsets from
            // where it was loaded; a fixed-address executable's are absolute.
            let isFixedAddress = base.load(fromByteOffset: 16, as: UInt16.self) == 2  // ET_EXEC
            let offset = isFixedAddress ? address : address - UInt(bitPattern: base)
            byObject[path, default: []].append((address, offset))
        }
        var mangledNames: Set<String> = []
        var raw: [UInt: [(name: String, location: String)]] = [:]
        for (path, entries) in byObject {
            let input = entries.map { "0x" + String($0.offset, radix: 16) }.joined(separator: "\n")
            // C++ names (the runtime's) are demangled here, Swift ones below: llvm-symbolizer
            // leaves those as they are.
            let output = Self.run(
                "llvm-symbolizer --obj='\(path)' --functions=linkage --inlines --output-style=LLVM",
                input: input)
            // One block per address: pairs of lines (function, file:line) per inlined frame, then a blank line.
            let blocks = output.split(separator: "\n\n", omittingEmptySubsequences: false)
            for (entry, block) in zip(entries, blocks) {
                let lines = block.split(separator: "\n").map(String.init)
                let frames = stride(from: 0, to: lines.count - 1, by: 2).map { index in
                    (name: Self.withoutTemplateArguments(lines[index]), location: Self.shortLocation(lines[index + 1]))
                }
                raw[entry.address] = frames
                mangledNames.formUnion(frames.map(\.name))
            }
        }
        let ordered = Array(mangledNames)
        let demangled = Self.run("swift demangle --simplified", input: ordered.joined(separator: "\n"))
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var names: [String: String] = [:]
        for (index, mangled) in ordered.enumerated() {
            let name = index < demangled.count ? demangled[index] : mangled
            names[mangled] = name.count > 140 ? String(name.prefix(140)) + "…" : name
        }
        for (address, list) in raw {
            frames[address] = list.map {
                Frame(mangled: $0.name, name: names[$0.name] ?? $0.name, location: $0.location)
            }
        }
    }

    /// `swift::StackAllocator<984ul, …>::alloc(unsigned long)` reads better as
    /// `swift::StackAllocator<>::alloc(unsigned long)`.
    private static func withoutTemplateArguments(_ name: String) -> String {
        guard !name.hasPrefix("$s") else { return name }
        var result = ""
        var depth = 0
        for character in name {
            if character == "<" {
                depth += 1
                if depth == 1 { result.append("<>") }
            } else if character == ">" {
                depth -= 1
            } else if depth == 0 {
                result.append(character)
            }
        }
        return result
    }

    /// `/path/to/HTTPConnection.swift:120:9` → `HTTPConnection.swift:120`.
    private static func shortLocation(_ line: String) -> String {
        let parts = line.split(separator: "/").last.map(String.init) ?? line
        let fields = parts.split(separator: ":")
        // No line information (libuv, the runtime): llvm-symbolizer names its input instead.
        guard fields.count >= 2, fields[0] != "<stdin>" else { return "?" }
        return "\(fields[0]):\(fields[1])"
    }

    private static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return count > 0 ? String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
    }

    /// Runs `command` with `input` on its standard input (through a file) and returns its output.
    private static func run(_ command: String, input: String) -> String {
        var template = Array("/tmp/allocation-sites-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { fail("mkstemp failed") }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { unlink(path) }
        let bytes = Array((input + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard let pipe = popen("\(command) < '\(path)'", "r") else { fail("cannot run \(command)") }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&chunk, 1, chunk.count, pipe)
            if count == 0 { break }
            output += chunk[..<count]
        }
        guard pclose(pipe) == 0 else { fail("\(command) failed (is it on PATH?)") }
        return String(decoding: output, as: UTF8.self)
    }
}
