/// A value bound to a `$n` parameter of a statement, sent in PostgreSQL's text form.
///
/// Statements take their values only as parameters, never spliced into the SQL text, so no value
/// can change what a statement does.
public protocol PostgresParameter: Sendable {
    /// The value in the text form PostgreSQL parses for the parameter's type.
    var postgresText: String { get }
}

extension String: PostgresParameter {
    public var postgresText: String { self }
}

extension Int: PostgresParameter {
    public var postgresText: String { String(self) }
}

extension Int64: PostgresParameter {
    public var postgresText: String { String(self) }
}

extension Int32: PostgresParameter {
    public var postgresText: String { String(self) }
}

extension Bool: PostgresParameter {
    public var postgresText: String { self ? "t" : "f" }
}

extension Double: PostgresParameter {
    public var postgresText: String { "\(self)" }
}

/// The rows a statement returned, with its column names, values in text form.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// The column names, in result order.
    public let columns: [String]
    /// Rows affected by an `INSERT`, `UPDATE`, `DELETE` (and rows returned by a `SELECT`), as the
    /// server's command tag reports them.
    public let affectedRows: Int
    private let values: [[String?]]

    init(columns: [String], values: [[String?]], affectedRows: Int) {
        self.columns = columns
        self.values = values
        self.affectedRows = affectedRows
    }

    public var startIndex: Int { values.startIndex }
    public var endIndex: Int { values.endIndex }
    public subscript(position: Int) -> PostgresRow {
        PostgresRow(columns: columns, values: values[position])
    }
}

/// One row of ``PostgresRows``.
public struct PostgresRow: Sendable {
    /// The column names, in result order.
    public let columns: [String]
    /// The values, `nil` for SQL `NULL`, in the same order.
    public let values: [String?]

    /// The text of column `name`; `nil` when it is SQL `NULL`.
    ///
    /// - Throws: ``PostgresError`` of kind `decoding` when the result has no such column.
    public func text(_ name: String) throws(PostgresError) -> String? {
        guard let index = columns.firstIndex(of: name) else {
            throw PostgresError(
                .decoding, message: "no column \"\(name)\" in the result (columns: \(columns.joined(separator: ", ")))")
        }
        return values[index]
    }

    /// Column `name` as `Value`, which must not be `NULL`.
    ///
    /// - Throws: ``PostgresError`` of kind `decoding` for a missing column, a `NULL`, or text
    ///   that is not a `Value`.
    public func decode<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws(PostgresError)
        -> Value
    {
        guard let text = try text(name) else {
            throw PostgresError(.decoding, message: "column \"\(name)\" is NULL, expected \(Value.self)")
        }
        guard let value = Value(postgresText: text) else {
            throw PostgresError(
                .decoding, message: "column \"\(name)\" holds \"\(text.prefix(64))\", not \(Value.self)")
        }
        return value
    }

    /// Column `name` as `Value`, or `nil` when it is `NULL`.
    ///
    /// - Throws: ``PostgresError`` of kind `decoding` for a missing column or text that is not a
    ///   `Value`.
    public func decodeIfPresent<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self)
        throws(PostgresError) -> Value?
    {
        guard try text(name) != nil else { return nil }
        return try decode(name, as: type)
    }
}

/// A type a column's text form converts to.
public protocol PostgresDecodable {
    /// Parses PostgreSQL's text form; `nil` when `postgresText` is not a value of this type.
    init?(postgresText: String)
}

extension String: PostgresDecodable {
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int32: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Double: PostgresDecodable {
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresDecodable {
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

/// A `NOTIFY` that reached a connection listening on its channel.
public struct PostgresNotification: Sendable, Equatable {
    /// The channel it was sent on.
    public let channel: String
    /// The payload (empty when none was given).
    public let payload: String
    /// The process id of the server backend that sent it.
    public let senderProcessID: Int32
}
