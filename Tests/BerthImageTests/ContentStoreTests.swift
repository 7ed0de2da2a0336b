import BerthCore
@testable import BerthImage
import BerthOCI
import BerthTestSupport
import Foundation
import Testing

@Suite("Content store")
final class ContentStoreTests {
    let root: String
    let store: ContentStore

    init() throws {
        root = NSTemporaryDirectory() + "berth-store-\(UUID().uuidString)"
        store = try ContentStore(root: root)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    static func bytes(_ count: Int, seed: UInt8 = 7) -> Data {
        Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) })
    }

    @Test func writeReadAndDelete() throws {
        let data = Data("hello".utf8)
        let digest = try store.write(data, expecting: nil)
        #expect(digest == Digest.sha256(of: data))
        #expect(store.contains(digest))
        #expect(try store.data(for: digest) == data)
        #expect(try store.size(of: digest) == 5)
        #expect(try store.allDigests() == [digest])
        #expect(store.path(for: digest) == "\(root)/blobs/sha256/\(digest.encoded)")
        try store.delete(digest)
        #expect(!store.contains(digest))
        #expect(try store.allDigests().isEmpty)
    }

    @Test func writeRefusesTheWrongDigest() throws {
        let expected = Digest.sha256(of: Data("other".utf8))
        let error = #expect(throws: BerthError.self) { try store.write(Data("hello".utf8), expecting: expected) }
        #expect(error?.code == .digestMismatch)
        #expect(error?.message.contains(expected.description) == true)
        #expect(!store.contains(expected))
        #expect(try store.allDigests().isEmpty)
    }

    @Test func readingVerifiesWhatIsOnDisk() throws {
        let digest = try store.write(Data("hello".utf8))
        try Data("jello".utf8).write(to: URL(fileURLWithPath: store.path(for: digest)))
        let error = #expect(throws: BerthError.self) { try store.data(for: digest) }
        #expect(error?.code == .digestMismatch)
    }

    /// An interrupted ingest leaves a partial that is not a blob, and the next one resumes it.
    @Test func interruptedIngestResumes() async throws {
        let data = Self.bytes(100_000)
        let digest = Digest.sha256(of: data)
        let first = try #require(try await store.beginIngest(digest, expectedSize: Int64(data.count)))
        #expect(first.offset == 0)
        try first.append(data.prefix(40_000))
        first.close()
        #expect(!store.contains(digest))
        #expect(try store.allDigests().isEmpty)
        #expect(store.partialLength(of: digest) == 40_000)

        let second = try #require(try await store.beginIngest(digest, expectedSize: Int64(data.count)))
        #expect(second.offset == 40_000)
        try second.append(data.dropFirst(40_000))
        try second.commit()
        #expect(store.contains(digest))
        #expect(try store.data(for: digest) == data)
        #expect(store.partialLength(of: digest) == 0)
    }

    /// A resumed prefix is re-hashed: a corrupted one makes the blob fail, not pass unverified.
    @Test func resumedPrefixIsHashedAgain() async throws {
        let data = Self.bytes(10_000)
        let digest = Digest.sha256(of: data)
        try Self.bytes(4_000, seed: 99).write(to: URL(fileURLWithPath: store.partialPath(for: digest)))
        let ingest = try #require(try await store.beginIngest(digest, expectedSize: Int64(data.count)))
        #expect(ingest.offset == 4_000)
        try ingest.append(data.dropFirst(4_000))
        let error = #expect(throws: BerthError.self) { try ingest.commit() }
        #expect(error?.code == .digestMismatch)
        #expect(!store.contains(digest))
        #expect(store.partialLength(of: digest) == 0)
    }

    @Test func completeButWrongPartialStartsOver() async throws {
        let data = Self.bytes(1_000)
        let digest = Digest.sha256(of: data)
        try Self.bytes(1_000, seed: 3).write(to: URL(fileURLWithPath: store.partialPath(for: digest)))
        let ingest = try #require(try await store.beginIngest(digest, expectedSize: 1_000))
        #expect(ingest.offset == 0)
        ingest.close()
    }

    @Test func mismatchDeletesThePartialAndNamesTheDigests() async throws {
        let wanted = Self.bytes(5_000)
        let digest = Digest.sha256(of: wanted)
        let other = Self.bytes(5_000, seed: 1)
        let ingest = try #require(try await store.beginIngest(digest, expectedSize: 5_000))
        try ingest.append(other)
        let error = #expect(throws: BerthError.self) { try ingest.commit() }
        #expect(error?.code == .digestMismatch)
        #expect(error?.message.contains(digest.description) == true)
        #expect(error?.message.contains(Digest.sha256(of: other).description) == true)
        #expect(!store.contains(digest))
        #expect(!FileManager.default.fileExists(atPath: store.partialPath(for: digest)))
    }

    @Test func tooManyBytesFailAtOnce() async throws {
        let digest = Digest.sha256(of: Self.bytes(10))
        let ingest = try #require(try await store.beginIngest(digest, expectedSize: 10))
        let error = #expect(throws: BerthError.self) { try ingest.append(Self.bytes(11)) }
        #expect(error?.message.contains("more than the 10") == true)
        #expect(!FileManager.default.fileExists(atPath: store.partialPath(for: digest)))
    }

    @Test func tooFewBytesFailTheCommit() async throws {
        let data = Self.bytes(10)
        let ingest = try #require(try await store.beginIngest(Digest.sha256(of: data), expectedSize: 10))
        try ingest.append(data.prefix(9))
        let error = #expect(throws: BerthError.self) { try ingest.commit() }
        #expect(error?.message.contains("got 9 bytes, expected 10") == true)
    }

    /// Two stores on one root stand for two processes: flock excludes them from each other.
    @Test func concurrentIngestsOfOneBlobShareTheWork() async throws {
        let other = try ContentStore(root: root)
        let data = Self.bytes(50_000)
        let digest = Digest.sha256(of: data)
        let first = try #require(try await store.beginIngest(digest, expectedSize: 50_000))
        let waiter = Task { try await other.beginIngest(digest, expectedSize: 50_000) == nil }
        try await Task.sleep(for: .milliseconds(200))
        try first.append(data)
        try first.commit()
        #expect(try await waiter.value, "the second ingest found the blob present after waiting")
        #expect(try other.data(for: digest) == data)
    }

    @Test func waitsForALockHeldByAnotherProcess() async throws {
        let digest = Digest.sha256(of: Self.bytes(3))
        let holder = try SpawnedCommand(["/usr/bin/flock", store.lockPath(for: digest), "/bin/sh", "-c", "echo locked; sleep 0.5"])
        holder.waitForOutput("locked")
        let start = ContinuousClock.now
        let ingest = try #require(try await store.beginIngest(digest, expectedSize: 3))
        #expect(ContinuousClock.now - start >= .milliseconds(250))
        ingest.close()
        _ = try holder.finish()
    }

    @Test func aLeftoverPartialNeverCountsAsPresent() throws {
        let data = Self.bytes(100)
        let digest = Digest.sha256(of: data)
        // What a crash before the rename leaves: the complete bytes, but only in ingest/.
        try data.write(to: URL(fileURLWithPath: store.partialPath(for: digest)))
        #expect(!store.contains(digest))
        #expect(try store.allDigests().isEmpty)
        #expect(throws: BerthError.self) { try store.data(for: digest) }
    }
}
