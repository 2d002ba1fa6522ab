import HTTPTypes
import LoopworkUV

extension Response {
    /// A response that sends the regular file at `path`, read 64 KiB at a time on the worker
    /// loop's thread pool while the client takes it.
    ///
    /// The response carries `Content-Type` (`contentType`, or one chosen by the file's extension),
    /// `Content-Length`, a strong `ETag` (from size, modification time and inode),
    /// `Last-Modified` and `Accept-Ranges: bytes`. For GET and HEAD it answers:
    /// - `304 Not Modified` when `If-None-Match` matches the ETag (weak comparison, `*` matches
    ///   any) or, without `If-None-Match`, when `If-Modified-Since` is not older than the file;
    /// - for GET, `206 Partial Content` for one range (`Range: bytes=a-b`, `a-`, `-n`), honoured
    ///   only while `If-Range` (if sent) still names this file's ETag or date; `416` with
    ///   `Content-Range: bytes */size` for a range past the end. A request for several ranges gets
    ///   the whole file (200): this server sends no `multipart/byteranges`.
    ///
    /// The file is opened once, here, and closed when the body's producer ends, fails or finds the
    /// client gone; a response whose body is never sent (HEAD) closes it when dropped. A file that
    /// shrinks while it is sent ends the response with an error (its length was promised).
    ///
    /// - Throws: ``HTTPError`` 404 when nothing is at `path` or it is not a regular file (a
    ///   directory), 403 when the server may not read it; the file system's error otherwise.
    public static func file(_ path: String, for request: Request, contentType: String? = nil) async throws -> Response {
        let loop = try FileResponse.loop(of: request)
        let file: LoopFile
        do throws(UVError) {
            file = try await LoopFile.open(path, on: loop)
        } catch {
            if error.isNotFound { throw HTTPError(.notFound) }
            if error.isPermissionDenied { throw HTTPError(.forbidden) }
            throw error
        }
        let status = try await file.status()
        guard status.isRegularFile else {
            await file.close()
            throw HTTPError(.notFound)
        }
        return await FileResponse.respond(
            with: file, status: status, to: request,
            contentType: contentType ?? FileMediaType.forPath(path))
    }
}

/// Why a file response failed after its head was decided.
struct FileResponseError: Error, CustomStringConvertible {
    let description: String

    static let noLoop = FileResponseError(
        description: "file responses need a request served by a Loopwork app (its context has no event loop)")
    static let fileShrank = FileResponseError(description: "the file got shorter while it was sent")
}

/// The response for a file already opened and found regular: validators, conditional requests,
/// ranges and the streaming body.
enum FileResponse {
    /// Bytes read and written at a time: large enough that a syscall and a pool hop are cheap
    /// beside the copy, small enough to stay within the connection's write high-water mark.
    static let chunkSize = 64 * 1024

    static func loop(of request: Request) throws -> EventLoop {
        guard let loop = request.context.loop else { throw FileResponseError.noLoop }
        return loop
    }

    static func respond(with file: LoopFile, status: FileStatus, to request: Request, contentType: String) async
        -> Response
    {
        let tag = EntityTag(file: status)
        let modified = status.modificationTime.components.seconds
        let validators: HTTPFields = [.eTag: tag.fieldValue, .lastModified: HTTPDate.format(modified)]
        let fields = request.headerFields
        let method = request.method
        if method == .get || method == .head, isNotModified(fields, tag: tag, modified: modified) {
            await file.close()
            return Response(status: .notModified, headerFields: validators)
        }
        var headerFields = validators
        headerFields[.contentType] = contentType
        headerFields[.acceptRanges] = "bytes"
        var bytes: Range<Int64> = 0..<status.size
        var responseStatus = HTTPResponse.Status.ok
        if method == .get, rangeApplies(fields, tag: tag, modified: modified) {
            switch ByteRangeSelection(parsing: fields[.range], size: status.size) {
            case .whole:
                break
            case .partial(let range):
                responseStatus = .partialContent
                headerFields[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(status.size)"
                bytes = range.lowerBound..<range.upperBound + 1
            case .unsatisfiable:
                await file.close()
                return Response(
                    status: .rangeNotSatisfiable,
                    headerFields: [.contentRange: "bytes */\(status.size)", .acceptRanges: "bytes"])
            }
        }
        return Response(status: responseStatus, headerFields: headerFields, body: body(of: file, bytes))
    }

    /// RFC 9110 §13.2.2: `If-None-Match` decides when present; `If-Modified-Since` only without
    /// it. Dates have whole seconds, so the file's time is compared by its second.
    static func isNotModified(_ fields: HTTPFields, tag: EntityTag, modified: Int64) -> Bool {
        let noneMatch = fields[values: .ifNoneMatch]
        if !noneMatch.isEmpty { return tag.matchesNoneMatchField(noneMatch.joined(separator: ", ")) }
        if let since = fields[.ifModifiedSince].flatMap(HTTPDate.parse) { return modified <= since }
        return false
    }

    /// Whether a `Range` may be served: always without `If-Range`, else only while it names the
    /// current file by strong ETag or by its exact modification date.
    static func rangeApplies(_ fields: HTTPFields, tag: EntityTag, modified: Int64) -> Bool {
        guard let ifRange = fields[.ifRange] else { return true }
        if let expected = EntityTag(ifRangeValue: ifRange) { return expected.stronglyMatches(tag) }
        return HTTPDate.parse(ifRange) == modified
    }

    /// Streams `bytes` of `file`, then closes it, also when a read fails or the client is gone.
    static func body(of file: LoopFile, _ bytes: Range<Int64>) -> ResponseBody {
        ResponseBody(length: bytes.count) { writer in
            do {
                var offset = bytes.lowerBound
                while offset < bytes.upperBound {
                    let piece = try await file.read(
                        upTo: Int(min(Int64(chunkSize), bytes.upperBound - offset)), at: offset)
                    guard !piece.isEmpty else { throw FileResponseError.fileShrank }
                    try await writer.write(piece)
                    offset += Int64(piece.count)
                }
            } catch {
                await file.close()
                throw error
            }
            await file.close()
        }
    }
}
