import Synchronization
import TraceFormat

/// A bounded multi-producer, single-consumer queue of ``TraceEvent`` values (D. Vyukov's
/// bounded queue): producers claim a slot with one compare-and-swap and publish it with one
/// release store; the consumer takes slots in order. Slots are preallocated, so `push` never
/// allocates: it copies the event value into its slot (arrays inside the event are retained,
/// not copied).
///
/// Each slot carries a sequence number: `ticket` when free for the producer holding that
/// ticket, `ticket + 1` when filled, `ticket + capacity` when consumed (free for the next lap).
final class EventRing: @unchecked Sendable {
    let capacity: Int
    private let mask: Int
    private let slots: UnsafeMutablePointer<TraceEvent>
    private let sequences: UnsafeMutablePointer<Atomic<Int>>
    /// The next ticket for producers (the only word all producers write).
    private let enqueuePosition = Atomic<Int>(0)
    /// Keeps the consumer's position off the producers' cache line.
    private let padding: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
    /// The next ticket the consumer takes (consumer thread only).
    private var consumerPosition = 0

    /// - Parameter capacity: rounded up to a power of two.
    init(capacity: Int) {
        var size = 2
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        slots = .allocate(capacity: size)
        sequences = .allocate(capacity: size)
        for i in 0..<size { (sequences + i).initialize(to: Atomic(i)) }
    }

    deinit {
        // Drop events never consumed.
        while pop() != nil {}
        sequences.deinitialize(count: capacity)
        sequences.deallocate()
        slots.deallocate()
    }

    /// Tickets taken so far (events pushed or being pushed).
    var enqueued: Int { enqueuePosition.load(ordering: .acquiring) }

    /// Copies `event` into a free slot; returns the event's ticket, or nil if the ring is full.
    /// Thread-safe. O(1), lock-free, no allocation.
    @inline(__always)
    func push(_ event: TraceEvent) -> Int? {
        var position = enqueuePosition.load(ordering: .relaxed)
        while true {
            let index = position & mask
            let sequence = sequences[index].load(ordering: .acquiring)
            if sequence == position {
                let (won, current) = enqueuePosition.compareExchange(
                    expected: position, desired: position &+ 1, ordering: .relaxed)
                if won {
                    (slots + index).initialize(to: event)
                    sequences[index].store(position &+ 1, ordering: .releasing)
                    return position
                }
                position = current
            } else if sequence < position {
                return nil  // the slot still holds an event from the previous lap: full
            } else {
                position = enqueuePosition.load(ordering: .relaxed)
            }
        }
    }

    /// Takes the oldest published event, or nil if there is none (yet). Consumer thread only.
    func pop() -> TraceEvent? {
        let position = consumerPosition
        let index = position & mask
        guard sequences[index].load(ordering: .acquiring) == position &+ 1 else { return nil }
        let event = (slots + index).move()
        sequences[index].store(position &+ capacity, ordering: .releasing)
        consumerPosition = position &+ 1
        return event
    }
}
