// expect-error: does not conform to the 'Sendable' protocol
import Loopwork

final class Cart {
    var items: [String] = []
}

@Sendable func checkout(_ cart: Cart) async {}

func schedule(_ tasks: Tasks) {
    tasks.schedule(checkout, Cart())
}
