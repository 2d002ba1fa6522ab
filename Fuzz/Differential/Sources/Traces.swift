// What each parser made of one input, in one shape: the events with the input offset at which they
// happened. Both parsers are fed one byte per call, so an event's offset is the byte that caused it
// and a body byte's event sits at that byte's own offset.
import HTTPTypes
import LLHTTPTrace
import LoopworkHTTP

struct Field: Equatable, CustomStringConvertible {
    var name: [UInt8]
    var value: [UInt8]

    var description: String { "\(escaped(name)): \(escaped(value))" }
}

enum Framing: Equatable {
    case none
    case length(UInt64)
    case chunked
}

/// The parts of a request head both parsers report.
struct Head: Equatable {
    var method: [UInt8]
    var target: [UInt8]
    var major: Int
    var minor: Int
    var fields: [Field]
    var keepAlive: Bool
    var framing: Framing

    func values(_ name: String) -> [[UInt8]] {
        let lowered = Array(name.utf8)
        return fields.filter { $0.name.map(asciiLower) == lowered }.map(\.value)
    }

    /// Which part of two heads differs, for the signature of a disagreement.
    func difference(from other: Head) -> String? {
        if method != other.method { return "method" }
        if target != other.target { return "target" }
        if major != other.major || minor != other.minor { return "version" }
        if fields != other.fields { return "fields" }
        if framing != other.framing { return "framing" }
        if keepAlive != other.keepAlive { return "keep-alive" }
        return nil
    }
}

enum Event: Equatable {
    case head(Head)
    case body(Int)
    case end(trailers: [Field])

    var name: String {
        switch self {
        case .head: "head"
        case .body: "body"
        case .end: "end"
        }
    }
}

struct Timed: Equatable {
    var at: Int
    var event: Event
}

struct Trace {
    var events: [Timed] = []
    /// The offset of the byte the parser refused, if it refused one.
    var rejectedAt: Int?
    /// Loopwork's error, or llhttp's errno name and reason.
    var error = ""
    var llhttpErrno: Int32 = 0
    /// llhttp only: it stopped parsing HTTP at this offset to hand the stream to another protocol.
    var upgradedAt: Int?
    /// llhttp only: offsets at which a chunk-size line or a chunk's data ended, and each chunk's size
    /// with the index of its message. Loopwork reports neither, but they show what llhttp accepted.
    var milestones: [Int] = []
    var chunkSizes: [(message: Int, size: UInt64, at: Int)] = []
    /// llhttp only: the protocol name of each request line ("HTTP", or e.g. "RTSP"), by message.
    var protocols: [[UInt8]] = []

    func head(_ message: Int) -> (at: Int, head: Head)? {
        var index = 0
        for timed in events {
            switch timed.event {
            case .head(let head) where index == message: return (timed.at, head)
            case .end: index += 1
            default: break
            }
        }
        return nil
    }

    func end(_ message: Int) -> (at: Int, trailers: [Field])? {
        var index = 0
        for timed in events {
            if case .end(let trailers) = timed.event {
                if index == message { return (timed.at, trailers) }
                index += 1
            }
        }
        return nil
    }

    /// How many messages ended before `offset`.
    func messagesEnded(before offset: Int) -> Int {
        events.reduce(0) { count, timed in
            if case .end = timed.event, timed.at < offset { return count + 1 }
            return count
        }
    }
}

// MARK: Loopwork

func loopworkTrace(_ input: UnsafeRawBufferPointer, limits: HTTPParserLimits) -> Trace {
    var parser = HTTPRequestParser(limits: limits)
    var trace = Trace()
    guard let base = input.baseAddress else { return trace }
    for index in 0..<input.count {
        do {
            try parser.parse(UnsafeRawBufferPointer(rebasing: input[index..<(index + 1)])) { event in
                switch event {
                case .head(let head):
                    trace.events.append(Timed(at: index, event: .head(Head(head))))
                case .body(let bytes):
                    guard let start = bytes.baseAddress else { return }
                    for offset in (start - base)..<(start - base + bytes.count) {
                        trace.events.append(Timed(at: index, event: .body(offset)))
                    }
                case .end(let trailers, _):
                    trace.events.append(Timed(at: index, event: .end(trailers: trailers.map(fieldList) ?? [])))
                }
            }
        } catch let error as HTTPParseError {
            trace.rejectedAt = index
            trace.error = error.description
            break
        } catch {
            fatalError("HTTPRequestParser threw a non-parse error: \(error)")
        }
    }
    return trace
}

private func fieldList(_ fields: HTTPFields) -> [Field] {
    fields.map { field in
        Field(name: Array(field.name.rawName.utf8), value: field.withUnsafeBytesOfValue { Array($0) })
    }
}

extension Head {
    init(_ head: HTTPRequestHead) {
        let framing: Framing =
            switch head.framing {
            case .none: .none
            case .contentLength(let length): .length(UInt64(length))
            case .chunked: .chunked
            }
        self.init(
            method: Array(head.request.method.rawValue.utf8), target: Array(head.target.utf8),
            major: head.version.major, minor: head.version.minor, fields: fieldList(head.request.headerFields),
            keepAlive: head.keepAlive, framing: framing)
    }
}

// MARK: llhttp

/// llhttp's flags (llhttp.h, enum llhttp_flags).
private let chunkedFlag: UInt16 = 0x8
private let contentLengthFlag: UInt16 = 0x20

func llhttpTrace(_ input: UnsafeRawBufferPointer) -> Trace {
    let raw = llt_run(input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count)
    var trace = Trace()
    var method: [UInt8] = []
    var target: [UInt8] = []
    var name: [UInt8] = []
    var value: [UInt8] = []
    var protocolName: [UInt8] = []
    var fields: [Field] = []
    var inTrailers = false
    var message = 0
    func bytes(_ event: llt_event) -> [UInt8] {
        Array(input[Int(event.start)..<Int(event.start + event.length)])
    }
    for index in 0..<raw.count {
        let event = raw.events[index]
        let at = Int(event.at)
        switch llt_kind(rawValue: event.kind) {
        case LLT_METHOD: method += bytes(event)
        case LLT_URL: target += bytes(event)
        case LLT_PROTOCOL: protocolName += bytes(event)
        case LLT_FIELD: name += bytes(event)
        case LLT_VALUE: value += bytes(event)
        case LLT_FIELD_DONE: break
        case LLT_VALUE_DONE:
            // RFC 9112 §5: the field value excludes the whitespace around it; llhttp's span keeps the trailing part.
            while let last = value.last, last == 0x20 || last == 0x09 { value.removeLast() }
            fields.append(Field(name: name, value: value))
            name = []
            value = []
        case LLT_HEADERS_DONE:
            let framing: Framing =
                event.flags & chunkedFlag != 0
                ? .chunked
                : event.flags & contentLengthFlag != 0 ? .length(event.value) : .none
            let head = Head(
                method: method, target: target, major: Int(event.major), minor: Int(event.minor),
                fields: fields, keepAlive: event.keep_alive != 0, framing: framing)
            trace.events.append(Timed(at: at, event: .head(head)))
            trace.protocols.append(protocolName)
            protocolName = []
            method = []
            target = []
            fields = []
            inTrailers = true
        case LLT_BODY:
            for offset in Int(event.start)..<Int(event.start + event.length) {
                trace.events.append(Timed(at: at, event: .body(offset)))
            }
        case LLT_CHUNK_HEADER:
            trace.milestones.append(at)
            trace.chunkSizes.append((message, event.value, at))
        case LLT_CHUNK_DONE:
            trace.milestones.append(at)
        case LLT_MESSAGE_DONE:
            trace.events.append(Timed(at: at, event: .end(trailers: inTrailers ? fields : [])))
            fields = []
            inTrailers = false
            message += 1
        default:
            break
        }
    }
    if raw.error != 0 {
        trace.rejectedAt = Int(raw.error_at)
        trace.llhttpErrno = raw.error
        trace.error =
            "\(raw.error_name.map { String(cString: $0) } ?? "?"): \(raw.error_reason.map { String(cString: $0) } ?? "")"
    }
    if raw.upgraded != 0 { trace.upgradedAt = Int(raw.upgraded_at) }
    return trace
}

// MARK: Helpers

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }

/// Bytes as a Swift string literal would show them, so a report can be pasted into a test.
func escaped<S: Sequence<UInt8>>(_ bytes: S) -> String {
    var text = ""
    for byte in bytes {
        switch byte {
        case 0x0D: text += "\\r"
        case 0x0A: text += "\\n"
        case 0x09: text += "\\t"
        case 0x5C: text += "\\\\"
        case 0x22: text += "\\\""
        case 0x20...0x7E: text += String(UnicodeScalar(byte))
        default: text += "\\u{\(String(byte, radix: 16))}"
        }
    }
    return text
}
