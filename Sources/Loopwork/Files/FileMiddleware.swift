import HTTPTypes
import LoopworkUV

/// Serves the files under a directory for GET and HEAD requests under a URL prefix, as
/// ``Response/file(_:for:contentType:)`` does (validators, 304, ranges).
///
/// ```swift
/// app.add(middleware: FileMiddleware(root: "public", urlPrefix: "/static"))
/// ```
///
/// `/static/css/site.css` is `public/css/site.css`; a directory serves its `index.html`, and a
/// directory asked for without its trailing slash is redirected (301) to it, so relative links in
/// the page resolve. Other methods, paths outside the prefix and files that do not exist go on
/// to the next responder (the router).
///
/// Each segment is percent-decoded. A segment that could climb out of the root (`..` or `.`,
/// also as `%2e%2e`) or holds a backslash, NUL or an encoded `/` is refused with 400. A path
/// that resolves, through symbolic links, to a file outside the root is answered with 404;
/// links that stay inside are served. The root is resolved on the first request, once.
public struct FileMiddleware: Middleware {
    private let root: String
    /// The URL prefix without a trailing slash: `""` for `/`.
    private let prefix: String
    private let resolvedRoot = Locked<String?>(nil)

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - root: The directory whose files are served; relative to the working directory unless
    ///     absolute.
    ///   - urlPrefix: The path under which files are served (`/static` serves
    ///     `/static/...`); `/` for the whole site.
    public init(root: String, urlPrefix: String = "/") {
        self.root = root
        var prefix = urlPrefix.hasPrefix("/") ? urlPrefix : "/" + urlPrefix
        while prefix.hasSuffix("/") { prefix.removeLast() }
        self.prefix = prefix
    }

    // Inlined into the protocol witness, so that a request outside the prefix, every request
    // of most apps, passes through without an async frame of its own.
    @inline(__always)
    public func respond(to request: Request, next: Responder) async throws -> Response {
        guard request.method == .get || request.method == .head, let relative = relativePath(of: request.path) else {
            return try await next(request)
        }
        return try await serve(relative, to: request, next: next)
    }

    /// Answers a `GET` or `HEAD` under the prefix: the file, a directory's `index.html`, a
    /// redirect to a directory's slash form, or `next` when there is nothing to serve.
    private func serve(_ relative: Substring, to request: Request, next: Responder) async throws -> Response {
        let segments = try Self.segments(of: relative)
        let loop = try FileResponse.loop(of: request)
        let root = try await resolvedRoot(on: loop)
        let target = ([root] + segments).joined(separator: "/")
        guard let (file, status) = try await open(target, root: root, on: loop) else { return try await next(request) }
        let asksForDirectory = request.path.hasSuffix("/")
        guard status.isDirectory else {
            // `file.txt/` names a directory that is not there, as the file system would say.
            guard !asksForDirectory else {
                await file.close()
                return try await next(request)
            }
            return await FileResponse.respond(
                with: file, status: status, to: request, contentType: FileMediaType.forPath(target))
        }
        await file.close()
        guard asksForDirectory else {
            // Relative to the request, from its last segment as sent: never a URL of another host
            // (`//host`) or scheme (`a:b`).
            let name = request.path.split(separator: "/").last ?? ""
            let requestTarget = request.head.path ?? ""
            let query = requestTarget.firstIndex(of: "?").map { requestTarget[$0...] } ?? ""
            return Response(status: .movedPermanently, headerFields: [.location: "./\(name)/\(query)"])
        }
        let index = target + "/index.html"
        guard let (indexFile, indexStatus) = try await open(index, root: root, on: loop) else {
            return try await next(request)
        }
        guard indexStatus.isRegularFile else {
            await indexFile.close()
            return try await next(request)
        }
        return await FileResponse.respond(
            with: indexFile, status: indexStatus, to: request, contentType: FileMediaType.forPath(index))
    }

    /// The request path below the prefix (`""` or starting with `/`), or nil outside it.
    private func relativePath(of path: String) -> Substring? {
        let utf8 = path.utf8
        guard utf8.starts(with: prefix.utf8) else { return nil }
        let rest = Substring(utf8.dropFirst(prefix.utf8.count))
        return rest.isEmpty || rest.hasPrefix("/") ? rest : nil
    }

    /// The decoded segments of `relative`; empty ones (`//`) are skipped.
    ///
    /// - Throws: ``HTTPError`` 400 for a segment that names a parent or the directory itself, or
    ///   holds a character no file name in a URL path may hold (NUL, `/`, `\`).
    static func segments(of relative: Substring) throws -> [String] {
        try relative.split(separator: "/").map { raw in
            let segment = PercentDecoding.decode(raw, plusIsSpace: false)
            let bytes = segment.utf8
            let isDots = bytes.elementsEqual(".".utf8) || bytes.elementsEqual("..".utf8)
            guard !isDots, !bytes.contains(where: { $0 == 0 || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "\\") })
            else {
                throw HTTPError(.badRequest, detail: "invalid path")
            }
            return segment
        }
    }

    /// Resolves `path` and opens it when it lies under `root`: nil when nothing is there.
    ///
    /// - Throws: ``HTTPError`` 404 for a path that leads out of the root, one the server may not
    ///   read, or one that is neither a regular file nor a directory.
    private func open(_ path: String, root: String, on loop: EventLoop) async throws -> (LoopFile, FileStatus)? {
        let resolved: String
        do throws(UVError) {
            resolved = try await loop.realPath(path)
        } catch {
            return try Self.nothingToServe(error)
        }
        guard Self.isInside(resolved, root: root) else { throw HTTPError(.notFound) }
        let file: LoopFile
        do throws(UVError) {
            file = try await LoopFile.open(resolved, on: loop)
        } catch {
            return try Self.nothingToServe(error)
        }
        let status = try await file.status()
        guard status.isRegularFile || status.isDirectory else {
            await file.close()
            throw HTTPError(.notFound)
        }
        return (file, status)
    }

    /// Nil (fall through) when nothing exists at the path; a 404 when a link loops, a name is too
    /// long or the server may not read it: nothing to serve, and not worth telling apart to the
    /// client. Any other failure is the server's.
    private static func nothingToServe<T>(_ error: UVError) throws -> T? {
        if error.isNotFound { return nil }
        if error.isPermissionDenied || error.name == "ELOOP" || error.name == "ENAMETOOLONG" {
            throw HTTPError(.notFound)
        }
        throw error
    }

    /// Whether `path` is `root` or below it, compared byte by byte (String comparison would
    /// equate differently normalized names that are different files).
    static func isInside(_ path: String, root: String) -> Bool {
        if root == "/" { return path.hasPrefix("/") }
        let (path, root) = (path.utf8, root.utf8)
        guard path.starts(with: root) else { return false }
        let rest = path.dropFirst(root.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "/")
    }

    private func resolvedRoot(on loop: EventLoop) async throws -> String {
        if let resolved = resolvedRoot.withLock({ $0 }) { return resolved }
        let resolved = try await loop.realPath(root)
        resolvedRoot.withLock { $0 = resolved }
        return resolved
    }
}
