@testable import BerthAgent
import BerthCgroups
import BerthLinux
import BerthRuntime
import Foundation
import Logging
import Testing

/// A restarted agent finds a supervised container's supervisor by the PID and start time recorded
/// in its directory: in `launch.json`, or in the `supervisor` file of directories made by earlier
/// versions; in the runtime directory, or under the home where agents before it kept them. This
/// test process stands in for the supervisor.
@Suite struct SupervisedAdoptionTests {
    let directory = FileManager.default.temporaryDirectory.path + "/berth-adoption-\(UUID().uuidString)"
    var legacyDirectory: String { directory + "-legacy" }

    var driver: SupervisedDriver {
        SupervisedDriver(supervision: Supervision(supervisor: "/nonexistent/berth-supervise"), directory: directory,
                         legacyDirectory: legacyDirectory, cgroups: CgroupV1Manager(controllers: [:]), logRotation: nil,
                         logger: Logger(label: "adoption-test"))
    }

    var record: String { "\(getpid()) \(Pidfd.startTime(of: getpid()) ?? 0)" }

    func write(_ id: String, supervisorInLaunch: String?, supervisorFile: String?, legacy: Bool = false) throws {
        let dir = "\(legacy ? legacyDirectory : directory)/\(id)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var launch = SupervisedLaunch(id: id, configuration: ContainerConfiguration(rootfs: "/", command: ["/bin/true"]))
        launch.supervisor = supervisorInLaunch
        try JSONEncoder().encode(launch).write(to: URL(fileURLWithPath: SupervisedLaunch.file(in: dir)))
        if let supervisorFile { try Data(supervisorFile.utf8).write(to: URL(fileURLWithPath: dir + "/supervisor")) }
    }

    @Test func theRecordInLaunchJSONOrAnEarlierSupervisorFileIsFound() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write("new", supervisorInLaunch: record, supervisorFile: nil)
        try write("old", supervisorInLaunch: nil, supervisorFile: record + "\n")
        try write("none", supervisorInLaunch: nil, supervisorFile: nil)
        try write("restarted", supervisorInLaunch: "\(getpid()) 1", supervisorFile: nil)
        #expect(driver.adopt(id: "new", memoryLimit: nil) != nil)
        #expect(driver.adopt(id: "old", memoryLimit: nil) != nil)
        #expect(driver.adopt(id: "none", memoryLimit: nil) == nil, "no record: the container is lost")
        #expect(driver.adopt(id: "restarted", memoryLimit: nil) == nil, "the PID now belongs to another process")
    }

    @Test func aContainerOfAnAgentBeforeTheRuntimeDirectoryIsAdoptedFromTheHome() throws {
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: legacyDirectory)
        }
        try write("upgraded", supervisorInLaunch: record, supervisorFile: nil, legacy: true)
        try write("both", supervisorInLaunch: record, supervisorFile: nil)
        try write("both", supervisorInLaunch: nil, supervisorFile: nil, legacy: true)
        let upgraded = try #require(driver.adopt(id: "upgraded", memoryLimit: nil) as? SupervisedContainer)
        #expect(upgraded.directory == legacyDirectory + "/upgraded")
        let both = try #require(driver.adopt(id: "both", memoryLimit: nil) as? SupervisedContainer, "the runtime directory's record comes first")
        #expect(both.directory == directory + "/both")
        #expect(driver.adopt(id: "absent", memoryLimit: nil) == nil)
    }
}
