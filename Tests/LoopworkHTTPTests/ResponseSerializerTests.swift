import HTTPTypes
import LoopworkHTTP
import Testing

@Suite struct ResponseSerializerTests {
    let date = HTTPDateCache()

    func text(_ buffer: [UInt8]) -> String { String(decoding: buffer, as: UTF8.self) }

    @Test func smallResponseIsOneBufferWithContentLengthDateAndServer() {
        let serializer = HTTPResponseSerializer(serverName: "Loopwork", dateCache: date)
        var response = HTTPResponse(status: .ok)
        response.headerFields[.contentType] = "text/plain"
        var buffer: [UInt8] = []
        serializer.writeResponse(
            status: response.status, headerFields: response.headerFields, body: Array("hello".utf8),
            version: .http1_1, keepAlive: true, isHeadRequest: false, into: &buffer)
        #expect(
            text(buffer)
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nDate: \(date.current)\r\nServer: Loopwork\r\n\r\nhello"
        )
    }

    @Test func headResponseDescribesButOmitsTheBody() {
        let serializer = HTTPResponseSerializer(dateCache: date)
        var response = HTTPResponse(status: .ok)
        response.headerFields[.date] = "fixed"
        var buffer: [UInt8] = []
        serializer.writeResponse(
            status: response.status, headerFields: response.headerFields, body: Array("hello".utf8),
            version: .http1_1, keepAlive: true, isHeadRequest: true, into: &buffer)
        #expect(text(buffer) == "HTTP/1.1 200 OK\r\nDate: fixed\r\nContent-Length: 5\r\n\r\n")
    }

    @Test func noFramingFor204And1xxAndKeepUsersFor304() {
        let serializer = HTTPResponseSerializer(dateCache: date)
        var buffer: [UInt8] = []
        var noContent = HTTPResponse(status: .noContent)
        noContent.headerFields[.contentLength] = "0"
        noContent.headerFields[.date] = "d"
        serializer.writeResponse(
            status: noContent.status, headerFields: noContent.headerFields, body: Array("x".utf8),
            version: .http1_1, keepAlive: true, isHeadRequest: false, into: &buffer)
        #expect(text(buffer) == "HTTP/1.1 204 No Content\r\nDate: d\r\n\r\n")
        buffer = []
        var notModified = HTTPResponse(status: .notModified)
        notModified.headerFields[.date] = "d"
        serializer.writeHead(
            status: notModified.status, headerFields: notModified.headerFields, bodyLength: .known(10),
            version: .http1_1, keepAlive: true, into: &buffer)
        #expect(text(buffer) == "HTTP/1.1 304 Not Modified\r\nDate: d\r\n\r\n")
        buffer = []
        serializer.writeInterim(.continue, into: &buffer)
        #expect(text(buffer) == "HTTP/1.1 100 Continue\r\n\r\n")
    }

    @Test func connectionFieldsFollowKeepAliveAndVersion() {
        let serializer = HTTPResponseSerializer(dateCache: date)
        var response = HTTPResponse(status: .notFound)
        response.headerFields[.date] = "d"
        var buffer: [UInt8] = []
        serializer.writeHead(
            status: response.status, headerFields: response.headerFields, bodyLength: .known(0),
            version: .http1_1, keepAlive: false, into: &buffer)
        #expect(text(buffer) == "HTTP/1.1 404 Not Found\r\nDate: d\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        buffer = []
        serializer.writeHead(
            status: response.status, headerFields: response.headerFields, bodyLength: .known(0),
            version: .http1_0, keepAlive: true, into: &buffer)
        #expect(
            text(buffer) == "HTTP/1.1 404 Not Found\r\nDate: d\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
        buffer = []
        serializer.writeHead(
            status: response.status, headerFields: response.headerFields, bodyLength: .chunked,
            version: .http1_0, keepAlive: true, into: &buffer)
        #expect(text(buffer) == "HTTP/1.1 404 Not Found\r\nDate: d\r\nConnection: close\r\n\r\n")
    }

    @Test func chunkedBodyRoundTripsThroughTheParser() throws {
        let serializer = HTTPResponseSerializer(dateCache: date)
        var response = HTTPResponse(status: .ok)
        response.headerFields[.date] = "d"
        var buffer: [UInt8] = []
        serializer.writeHead(
            status: response.status, headerFields: response.headerFields, bodyLength: .chunked,
            version: .http1_1, keepAlive: true, into: &buffer)
        #expect(text(buffer) == "HTTP/1.1 200 OK\r\nDate: d\r\nTransfer-Encoding: chunked\r\n\r\n")
        var body: [UInt8] = []
        serializer.writeChunk(Array(repeating: UInt8(ascii: "x"), count: 300), into: &body)
        serializer.writeChunk([UInt8](), into: &body)
        serializer.writeChunk(Array("end".utf8), into: &body)
        var trailers = HTTPFields()
        trailers[try #require(HTTPField.Name("X-Checksum"))] = "abc"
        serializer.writeFinalChunk(trailers: trailers, into: &body)
        #expect(text(body).hasPrefix("12c\r\n"))
        // The request parser decodes the same chunked coding.
        let request = bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") + body
        let outcome = parse(request)
        #expect(outcome.error == nil)
        #expect(
            outcome.messages.first?.hasSuffix("body=\(String(repeating: "x", count: 300))end trailers=X-Checksum: abc")
                == true)
    }

    @Test func dateIsIMFFixdate() {
        let value = date.current
        #expect(value.utf8.count == 29)
        #expect(value.hasSuffix(" GMT"))
    }
}
