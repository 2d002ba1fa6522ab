import HelloRoutes
import Loopwork

let app = App(configuration: AppConfiguration(host: "127.0.0.1", port: 8080))
installRoutes(on: app)
try app.runUntilSignalled()
