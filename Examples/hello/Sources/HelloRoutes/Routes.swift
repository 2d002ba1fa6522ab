import Loopwork

/// A greeting with the name taken from the path: `GET /hello/{name}`.
public func installRoutes(on app: App) {
    app.get("/hello/{name}") { (path: PathParameters, query: QueryParameters) in
        let greeting = query["greeting"] ?? "Hello"
        return "\(greeting), \(path["name"] ?? "world")!"
    }
}
