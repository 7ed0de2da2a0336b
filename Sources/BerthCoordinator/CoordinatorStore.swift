import BerthCore
import BerthProtocol
import Foundation
import GRDB

extension BerthError.Code {
    /// The coordinator could not record a change (disk full, I/O error): nothing was changed; retry (HTTP 503).
    public static let unavailable = BerthError.Code(rawValue: "unavailable")
}

/// A framework as stored: what it subscribed with, and the wall-clock time its failover timeout
/// ends when it is disconnected. Wall clock, so a restart neither resets nor forgets the deadline.
struct StoredFramework: Sendable {
    var info: FrameworkInfo
    var failoverDeadline: Date?
}

struct StoredAgent: Sendable, Equatable {
    var id: AgentID
    var hostname: String
    var resources: Resources
    var attributes: [Attribute]
    var reachable: Bool
}

struct StoredTask: Sendable {
    var framework: FrameworkID
    var agent: AgentID
    var role: String
    var info: TaskInfo
    var status: TaskStatus
}

/// Everything the store holds, as read at start.
struct StoredState: Sendable {
    var frameworks: [StoredFramework] = []
    var agents: [StoredAgent] = []
    var tasks: [StoredTask] = []
    /// Operator settings (weights, quota) by name, as JSON documents.
    var settings: [String: String] = [:]
}

/// The coordinator's registry on disk: one SQLite database (`coordinator.sqlite` under the home
/// directory) written through on every change before the change is answered or forwarded.
/// Offers, filters and streams are not stored: Mesos forgets them on failover too.
///
/// Documents are kept as the same JSON the API speaks, so a stored TaskInfo keeps fields Berth
/// does not model, exactly as a framework sent them.
final class CoordinatorStore: Sendable {
    let path: String
    private let database: DatabaseQueue

    init(directory: String) throws {
        path = directory + "/coordinator.sqlite"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.journalMode = .wal
            // WAL with synchronous=NORMAL: a commit survives a crash of the coordinator (the
            // common case); only a power loss can take the last commits back.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            database = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch {
            throw BerthError(.unavailable, "cannot open the coordinator's state database \(path): \(error); check the directory is writable (--home)", underlying: error)
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE frameworks (id TEXT PRIMARY KEY, info TEXT NOT NULL, failover_deadline REAL);
                CREATE TABLE agents (id TEXT PRIMARY KEY, hostname TEXT NOT NULL, resources TEXT NOT NULL,
                                     attributes TEXT NOT NULL, reachable INTEGER NOT NULL);
                CREATE TABLE tasks (framework_id TEXT NOT NULL, task_id TEXT NOT NULL, agent_id TEXT NOT NULL, role TEXT NOT NULL,
                                    info TEXT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (framework_id, task_id));
                CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        return migrator
    }

    // MARK: Writes: each is one transaction.

    func save(_ framework: StoredFramework) throws {
        guard let id = framework.info.id else { return }
        let info = try json(framework.info)
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO frameworks (id, info, failover_deadline) VALUES (?, ?, ?)",
                           arguments: [id.value, info, framework.failoverDeadline?.timeIntervalSince1970])
        }
    }

    /// Removes a framework and every task it had.
    func removeFramework(_ id: FrameworkID) throws {
        try write { db in
            try db.execute(sql: "DELETE FROM tasks WHERE framework_id = ?", arguments: [id.value])
            try db.execute(sql: "DELETE FROM frameworks WHERE id = ?", arguments: [id.value])
        }
    }

    func save(_ agent: StoredAgent) throws {
        let resources = try json(agent.resources)
        let attributes = try json(agent.attributes)
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO agents (id, hostname, resources, attributes, reachable) VALUES (?, ?, ?, ?, ?)",
                           arguments: [agent.id.value, agent.hostname, resources, attributes, agent.reachable])
        }
    }

    func setReachable(_ agents: [AgentID], _ reachable: Bool) throws {
        guard !agents.isEmpty else { return }
        try write { db in
            for id in agents {
                try db.execute(sql: "UPDATE agents SET reachable = ? WHERE id = ?", arguments: [reachable, id.value])
            }
        }
    }

    /// Inserts or replaces tasks (launches, re-registrations) in one transaction.
    func save(_ tasks: [StoredTask]) throws {
        guard !tasks.isEmpty else { return }
        let rows = try tasks.map { task in
            [task.framework.value, task.info.taskID.value, task.agent.value, task.role, try json(task.info), try json(task.status)]
        }
        try write { db in
            let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO tasks (framework_id, task_id, agent_id, role, info, status) VALUES (?, ?, ?, ?, ?, ?)")
            for row in rows { try statement.execute(arguments: StatementArguments(row)) }
        }
    }

    /// A task's latest status, in the order the statuses arrive.
    func saveStatuses(_ statuses: [(FrameworkID, TaskStatus)]) throws {
        guard !statuses.isEmpty else { return }
        let rows = try statuses.map { ($0.0.value, $0.1.taskID.value, try json($0.1)) }
        try write { db in
            let statement = try db.cachedStatement(sql: "UPDATE tasks SET status = ? WHERE framework_id = ? AND task_id = ?")
            for (framework, task, status) in rows { try statement.execute(arguments: [status, framework, task]) }
        }
    }

    func removeTasks(_ keys: [(FrameworkID, TaskID)]) throws {
        guard !keys.isEmpty else { return }
        try write { db in
            for (framework, task) in keys {
                try db.execute(sql: "DELETE FROM tasks WHERE framework_id = ? AND task_id = ?", arguments: [framework.value, task.value])
            }
        }
    }

    /// An operator setting (weights, quota) as one JSON document.
    func saveSetting(_ name: String, _ value: some Encodable) throws {
        let text = try json(value)
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)", arguments: [name, text])
        }
    }

    // MARK: Reading everything back at start.

    func load() throws -> StoredState {
        do {
            return try database.read { db in
                var state = StoredState()
                for row in try Row.fetchAll(db, sql: "SELECT info, failover_deadline FROM frameworks") {
                    let deadline: Double? = row["failover_deadline"]
                    state.frameworks.append(StoredFramework(
                        info: try decode(FrameworkInfo.self, row["info"]),
                        failoverDeadline: deadline.map { Date(timeIntervalSince1970: $0) }))
                }
                for row in try Row.fetchAll(db, sql: "SELECT id, hostname, resources, attributes, reachable FROM agents") {
                    state.agents.append(StoredAgent(
                        id: AgentID(row["id"]), hostname: row["hostname"], resources: try decode(Resources.self, row["resources"]),
                        attributes: try decode([Attribute].self, row["attributes"]), reachable: row["reachable"]))
                }
                for row in try Row.fetchAll(db, sql: "SELECT framework_id, agent_id, role, info, status FROM tasks") {
                    state.tasks.append(StoredTask(
                        framework: FrameworkID(row["framework_id"]), agent: AgentID(row["agent_id"]), role: row["role"],
                        info: try decode(TaskInfo.self, row["info"]), status: try decode(TaskStatus.self, row["status"])))
                }
                for row in try Row.fetchAll(db, sql: "SELECT name, value FROM settings") {
                    state.settings[row["name"]] = row["value"]
                }
                return state
            }
        } catch let error as BerthError {
            throw error
        } catch {
            throw BerthError(.unavailable, "cannot read the coordinator's state from \(path): \(error)", underlying: error)
        }
    }

    // MARK: Helpers

    private func write(_ updates: (Database) throws -> Void) throws {
        do {
            try database.write(updates)
        } catch {
            throw BerthError(.unavailable, "the coordinator could not record the change in \(path) (\(error)); nothing was changed: free disk space or fix the file, then retry", underlying: error)
        }
    }

    private func json(_ value: some Encodable) throws -> String {
        String(decoding: try MesosJSON.encode(value), as: UTF8.self)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try MesosJSON.decode(type, from: Data(text.utf8), what: "stored \(T.self) in \(path)")
    }
}
