import HTTPTypes

/// Reads HTTP/1.1 responses from received bytes, for test clients: status line, fields, and a
/// body framed by `Content-Length`, chunked coding, or the end of the connection.
public struct ResponseReader: Sendable {
    private var buffer: [UInt8] = []
    private let isHeadRequest: Bool

    /// Creates a reader; responses to HEAD have no body whatever their fields say.
    public init(isHeadRequest: Bool = false) {
        self.isHeadRequest = isHeadRequest
    }

    /// The response could not be read.
    public struct MalformedResponse: Error, CustomStringConvertible {
        /// What was wrong.
        public let description: String
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

    /// The next complete response and whether the connection stays open after it, or `nil` when
    /// more bytes are needed. 1xx interim responses are skipped.
    public mutating func next() throws -> (TestResponse, keepAlive: Bool)? {
        while true {
            guard let headEnd = find([13, 10, 13, 10], in: buffer[...]) else { return nil }
            let headText = String(decoding: buffer[..<headEnd], as: UTF8.self)
            var lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false)
            let statusLine = lines.removeFirst().split(separator: " ", maxSplits: 2)
            guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let code = Int(statusLine[1]) else {
                throw MalformedResponse(description: "bad status line '\(headText.prefix(80))'")
            }
            var fields = HTTPFields()
            for line in lines where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else {
                    throw MalformedResponse(description: "bad field line '\(line)'")
                }
                fields.append(
                    HTTPField(name: name, value: String(line[line.index(after: colon)...].drop { $0 == " " })))
            }
            let bodyStart = headEnd + 4
            let status = HTTPResponse.Status(
                code: code, reasonPhrase: statusLine.count > 2 ? String(statusLine[2]) : "")
            if (100..<200).contains(code) {
                buffer.removeFirst(bodyStart)
                continue
            }
            let keepAlive = fields[.connection]?.lowercased() != "close" && statusLine[0] != "HTTP/1.0"
            if isHeadRequest || code == 204 || code == 304 {
                buffer.removeFirst(bodyStart)
                return (TestResponse(status: status, headerFields: fields, body: []), keepAlive)
            }
            if fields[.transferEncoding]?.lowercased().contains("chunked") == true {
                guard let (body, end) = try dechunk(from: bodyStart) else { return nil }
                buffer.removeFirst(end)
                return (TestResponse(status: status, headerFields: fields, body: body), keepAlive)
            }
            if let lengthText = fields[.contentLength] {
                guard let length = Int(lengthText) else {
                    throw MalformedResponse(description: "bad Content-Length '\(lengthText)'")
                }
                guard buffer.count >= bodyStart + length else { return nil }
                let body = Array(buffer[bodyStart..<bodyStart + length])
                buffer.removeFirst(bodyStart + length)
                return (TestResponse(status: status, headerFields: fields, body: body), keepAlive)
            }
            return nil  // delimited by the end of the connection
        }
    }

    /// At EOF, a response delimited by the connection's end, if one is buffered.
    public mutating func finishAtEOF() throws -> TestResponse? {
        guard let headEnd = find([13, 10, 13, 10], in: buffer[...]) else { return nil }
        let head = Array(buffer[..<(headEnd + 4)])
        let body = Array(buffer[(headEnd + 4)...])
        // Re-frame with an explicit length so one parser handles both cases.
        var reader = ResponseReader()
        reader.buffer = Array(head.dropLast(2)) + Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body
        buffer = []
        return try reader.next()?.0
    }

    private func dechunk(from start: Int) throws -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var position = start
        while true {
            guard let lineEnd = find([13, 10], in: buffer[position...]) else { return nil }
            let sizeText = String(decoding: buffer[position..<lineEnd], as: UTF8.self).split(separator: ";")[0]
            guard let size = Int(sizeText.trimmingCharacters(in: " "), radix: 16) else {
                throw MalformedResponse(description: "bad chunk size '\(sizeText)'")
            }
            position = lineEnd + 2
            if size == 0 {
                // Skip trailers up to the blank line.
                while true {
                    guard let end = find([13, 10], in: buffer[position...]) else { return nil }
                    if end == position { return (body, end + 2) }
                    position = end + 2
                }
            }
            guard buffer.count >= position + size + 2 else { return nil }
            body.append(contentsOf: buffer[position..<position + size])
            position += size + 2
        }
    }

    private func find(_ pattern: [UInt8], in slice: ArraySlice<UInt8>) -> Int? {
        guard slice.count >= pattern.count else { return nil }
        var index = slice.startIndex
        while index <= slice.endIndex - pattern.count {
            if slice[index] == pattern[0], slice[index..<index + pattern.count].elementsEqual(pattern) { return index }
            index += 1
        }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> Substring {
        var slice = self
        while slice.first == character { slice.removeFirst() }
        while slice.last == character { slice.removeLast() }
        return slice
    }
}
