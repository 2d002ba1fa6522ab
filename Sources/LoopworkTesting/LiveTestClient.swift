import HTTPTypes
import Loopwork
import LoopworkUV

/// Talks HTTP/1.1 to a live server over one keep-alive connection, reconnecting when the server
/// closed it. Requests are sent one at a time.
final class LiveTestClient: TestClient {
    let port: Int
    private let connection = LockedConnection()

    init(port: Int) { self.port = port }

    func execute(_ method: HTTPRequest.Method, _ path: String, headerFields: HTTPFields, body: [UInt8]) async throws
        -> TestResponse
    {
        var fields = headerFields
        if fields[HTTPField.Name.hostField] == nil { fields[HTTPField.Name.hostField] = "127.0.0.1:\(port)" }
        if !body.isEmpty, fields[.contentLength] == nil, fields[.transferEncoding] == nil {
            fields[.contentLength] = String(body.count)
        }
        var request = Array("\(method.rawValue) \(path) HTTP/1.1\r\n".utf8)
        for field in fields { request.append(contentsOf: "\(field.name.rawName): \(field.value)\r\n".utf8) }
        request.append(contentsOf: "\r\n".utf8)
        request.append(contentsOf: body)

        let socket = try connection.take() ?? TestSocket(port: port)
        try await socket.send(request)
        var reader = ResponseReader(isHeadRequest: method == .head)
        while true {
            if let (response, keepAlive) = try reader.next() {
                if keepAlive { connection.put(socket) }
                return response
            }
            let chunk = try await socket.receive()
            if chunk.isEmpty {
                if let response = try reader.finishAtEOF() { return response }
                throw TestSocketError(call: "recv (connection closed before a full response)", code: 0)
            }
            reader.append(chunk)
        }
    }
}

/// The idle keep-alive socket, if any.
private final class LockedConnection: Sendable {
    private let socket = Locked<TestSocket?>(nil)

    func take() -> TestSocket? {
        socket.withLock { value in
            defer { value = nil }
            return value
        }
    }
    func put(_ new: TestSocket) { socket.withLock { $0 = new } }
}
