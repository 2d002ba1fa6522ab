import HTTPTypes
import Loopwork
import Testing

private struct Receipt: ResponseEncodable {
    let total: Int
    let item: String
}

@Suite("Response conversion")
struct ResponseConvertibleTests {
    @Test func aResponseEncodableValueIsJSONWithSortedKeys() throws {
        let response = try Receipt(total: 3, item: "tea").makeResponse()
        #expect(response.status == .ok)
        #expect(response.headerFields[.contentType] == "application/json")
        #expect(response.body.bytes == Array(#"{"item":"tea","total":3}"#.utf8))
    }

    @Test func statusResponseReplacesTheStatusAndKeepsTheBodysFields() throws {
        let response = try StatusResponse(.accepted, ["status": "ok"]).makeResponse()
        #expect(response.status == .accepted)
        #expect(response.headerFields == [.contentType: "application/json"])
        #expect(response.body.bytes == Array(#"{"status":"ok"}"#.utf8))
    }

    @Test func statusResponseFieldsReplaceTheBodysOfTheSameNameOnly() throws {
        let body = Response(
            headerFields: [.contentType: "text/plain", .cacheControl: "no-store"], bytes: Array("hi".utf8))
        let response = try StatusResponse(
            .created, body,
            headerFields: [
                .contentType: "text/markdown", .location: "/notes/1", .setCookie: "a=1", .setCookie: "b=2",
            ]
        ).makeResponse()
        #expect(response.status == .created)
        #expect(response.headerFields[values: .contentType] == ["text/markdown"])
        #expect(response.headerFields[.location] == "/notes/1")
        #expect(response.headerFields[values: .setCookie] == ["a=1", "b=2"])
        #expect(response.headerFields[.cacheControl] == "no-store")
        #expect(response.body.bytes == Array("hi".utf8))
    }

    @Test func statusResponseCarriesABodysEncodingFailure() {
        struct Refused: Error {}
        struct Unencodable: ResponseEncodable {
            func encode(to encoder: any Encoder) throws { throw Refused() }
        }
        #expect(throws: Refused.self) { try StatusResponse(.created, Unencodable()).makeResponse() }
    }
}
