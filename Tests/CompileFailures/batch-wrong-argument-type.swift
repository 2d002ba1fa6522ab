// expect-error: cannot convert value of type 'Int' to expected argument type 'String'
import Loopwork

@Sendable func sendEmail(_ address: String) async throws {}

func schedule(_ tasks: Tasks) {
    tasks.afterResponse.schedule(sendEmail, 7)
}
