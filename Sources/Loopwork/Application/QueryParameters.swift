import HTTPTypes
import LoopworkHTTP

/// Query string parameters, percent-decoded, kept in the order they were sent.
public struct QueryParameters: Sendable, Equatable {
    private var storage = ParameterList()

    /// Every name/value pair, repeated names included.
    public var pairs: [(name: String, value: String)] { storage.pairs }

    /// Creates an empty set of parameters.
    public init() {}

    /// Parses `a=1&b=two&flag` (form encoding: `+` is a space, `%XX` is a byte).
    public init(parsing query: Substring) {
        for piece in query.split(separator: "&", omittingEmptySubsequences: true) {
            if let equals = piece.firstIndex(of: "=") {
                storage.pairs.append(
                    (
                        name: PercentDecoding.decodeFormComponent(piece[..<equals]),
                        value: PercentDecoding.decodeFormComponent(piece[piece.index(after: equals)...])
                    ))
            } else {
                storage.pairs.append((name: PercentDecoding.decodeFormComponent(piece), value: ""))
            }
        }
    }

    /// The first value sent for `name`, or `nil`.
    public subscript(name: String) -> String? { storage[name] }

    /// Every value sent for `name`, in order.
    public func values(for name: String) -> [String] {
        storage.pairs.filter { $0.name == name }.map(\.value)
    }

    /// The value of `name` converted to `T`.
    ///
    /// - Throws: ``HTTPError`` 422 naming the parameter when it is missing or does not convert.
    public func require<T: LosslessStringConvertible>(_ name: String, as type: T.Type = T.self) throws(HTTPError) -> T {
        try storage.require(
            name, "query parameter",
            missing: HTTPError(.unprocessableContent, detail: "missing query parameter '\(name)'"))
    }
}

/// Values captured by `{name}` segments of the route that matched, percent-decoded.
public struct PathParameters: Sendable, Equatable {
    private var storage = ParameterList()

    /// Creates an empty set.
    public init() {}

    mutating func append(name: String, value: String) {
        storage.pairs.append((name: name, value: value))
    }

    /// The value captured for `name`, or `nil` if the route has no such segment.
    public subscript(name: String) -> String? { storage[name] }

    /// Every captured name and value in route order.
    public var all: [(name: String, value: String)] { storage.pairs }

    /// The value of `name` converted to `T`.
    ///
    /// - Throws: ``HTTPError`` 422 naming the parameter when it does not convert.
    public func require<T: LosslessStringConvertible>(_ name: String, as type: T.Type = T.self) throws(HTTPError) -> T {
        // A name the route does not capture is the handler's mistake, not the client's.
        try storage.require(
            name, "path parameter",
            missing: HTTPError(.internalServerError, detail: "route has no path parameter '\(name)'"))
    }
}

/// What query and path parameters share: name/value pairs in the order they came, where a name's
/// first pair is its value.
private struct ParameterList: Sendable, Equatable {
    var pairs: [(name: String, value: String)] = []

    subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// The value of `name` converted to `T`; one that does not convert is answered 422, naming it as
    /// a `kind` (`query parameter 'page'`). With no value, `missing` is thrown.
    func require<T: LosslessStringConvertible>(
        _ name: String, _ kind: String, missing: @autoclosure () -> HTTPError
    ) throws(HTTPError) -> T {
        guard let raw = self[name] else { throw missing() }
        guard let value = T(raw) else {
            throw HTTPError(.unprocessableContent, detail: "\(kind) '\(name)' is not a valid \(T.self)")
        }
        return value
    }

    static func == (lhs: ParameterList, rhs: ParameterList) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }
}

enum PercentDecoding {
    /// Decodes `%XX` escapes; with `plusIsSpace`, `+` becomes a space (form encoding). Invalid
    /// escapes are kept literally rather than rejected: a query string is data, not syntax.
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(text)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+"), plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"),
                let first = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex), first != utf8.endIndex,
                let second = utf8.index(first, offsetBy: 1, limitedBy: utf8.endIndex), second != utf8.endIndex,
                let high = ByteClass.hexValue(utf8[first]), let low = ByteClass.hexValue(utf8[second])
            {
                bytes.append(high << 4 | low)
                index = second
            } else {
                bytes.append(byte)
            }
            index = utf8.index(after: index)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func decodeFormComponent(_ text: Substring) -> String {
        decode(text, plusIsSpace: true)
    }
}
