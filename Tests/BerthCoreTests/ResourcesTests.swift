import BerthCore
import Foundation
import Testing

@Suite("Resources")
struct ResourcesTests {
    @Test func arithmeticIsExact() throws {
        let tenth = try Resources.parse("cpus:0.1")
        let fifth = try Resources.parse("cpus:0.2")
        let sum = tenth + fifth
        #expect(sum == (try Resources.parse("cpus:0.3")))
        #expect(sum.contains(try Resources.parse("cpus:0.3")))
        #expect(sum - (try Resources.parse("cpus:0.3")) == .empty)
    }

    @Test func addsSubtractsAndContains() throws {
        let agent = try Resources.parse("cpus:4;mem:8192;disk:1000;ports:[31000-32000];disks:{a,b}")
        let task = try Resources.parse("cpus:1.5;mem:1024;ports:[31000-31009];disks:{a}")
        let left = try agent.subtracting(task)
        #expect(left == (try Resources.parse("cpus:2.5;mem:7168;disk:1000;ports:[31010-32000];disks:{b}")))
        #expect(left + task == agent)
        #expect(agent.contains(task))
        #expect(!left.contains(task))
        #expect(left - task == nil)
        #expect(agent.scalar(named: "cpus") == Scalar(milli: 4000))
        #expect(agent.scalar(named: "gpus") == .zero)
        #expect(agent.ranges(named: "ports").count == 1001)
        #expect(agent.set(named: "disks") == ["a", "b"])
    }

    @Test func subtractingWhatIsNotThereSaysWhat() throws {
        let agent = try Resources.parse("cpus:1")
        #expect(throws: BerthError.self) { try agent.subtracting(try Resources.parse("cpus:2")) }
        do {
            _ = try agent.subtracting(try Resources.parse("mem:10"))
        } catch let error as BerthError {
            #expect(error.message.contains("mem:10"))
        }
        #expect(agent.removing(try Resources.parse("cpus:2;mem:10")) == .empty)
    }

    @Test func reservationsAreKeptApart() throws {
        let agent = try Resources.parse("cpus:4;cpus(eng):2;mem(eng/web):512;mem:1024;cpus(ops):1")
        #expect(agent.scalar(named: "cpus") == 7)
        #expect(agent.unreserved == (try Resources.parse("cpus:4;mem:1024")))
        #expect(agent.reserved(for: try Role("eng")) == (try Resources.parse("cpus(eng):2")))
        #expect(agent.reservationRoles == [try Role("eng"), try Role("eng/web"), try Role("ops")])
        // eng/web may use eng's reservation; eng may not use eng/web's.
        #expect(agent.allocatableTo(role: try Role("eng/web")) == (try Resources.parse("cpus:4;mem:1024;cpus(eng):2;mem(eng/web):512")))
        #expect(agent.allocatableTo(role: try Role("eng")) == (try Resources.parse("cpus:4;mem:1024;cpus(eng):2")))
        #expect(agent.allocatableTo(role: .default) == agent.unreserved)
        #expect(!agent.unreserved.contains(try Resources.parse("cpus(eng):1")))
    }

    @Test func quantityAlternatives() throws {
        #expect(try ResourceQuantities.parseAlternatives("cpus:0.01|mem:32") == [ResourceQuantities(["cpus": Scalar(milli: 10)]), ResourceQuantities(["mem": 32])])
        #expect(try ResourceQuantities.parseAlternatives("cpus:1;mem:64") == [ResourceQuantities(["cpus": 1, "mem": 64])])
        #expect(throws: BerthError.self) { try ResourceQuantities.parseAlternatives("cpus:0.01|mem") }
    }

    @Test func quantities() throws {
        let agent = try Resources.parse("cpus:4;cpus(eng):2;ports:[1-10,20-29];disks:{a,b}")
        #expect(agent.quantities == ResourceQuantities(["cpus": 6, "ports": 20, "disks": 2]))
        #expect(agent.quantities.contains(try ResourceQuantities.parse("cpus:0.01")))
        #expect(!agent.quantities.contains(try ResourceQuantities.parse("mem:32")))
    }
}

@Suite("Resources text format")
struct ResourcesParsingTests {
    static let good: [(String, String)] = [
        ("cpus:4;mem:8192;disk:1000;ports:[31000-32000];gpus:0", "cpus:4;disk:1000;mem:8192;ports:[31000-32000]"),
        ("cpus(eng):2;mem(eng):1024", "cpus(eng):2;mem(eng):1024"),
        ("ports:[33000-33010, 31000-32000]", "ports:[31000-32000,33000-33010]"),
        ("disks:{b, a}", "disks:{a,b}"),
        (" cpus : 1 ; cpus:0.5 ;", "cpus:1.5"),
        ("cpus(eng/web):0.25;cpus:1", "cpus:1;cpus(eng/web):0.25"),
        ("disks:{}", ""),
        ("", ""),
    ]

    @Test(arguments: good)
    func parsesAndPrintsBack(text: String, canonical: String) throws {
        let resources = try Resources.parse(text)
        #expect(resources.description == canonical)
        #expect(try Resources.parse(resources.description) == resources)
    }

    static let bad: [(String, String)] = [
        ("cpus:4;mem", "mem"),
        ("cpus:four", "cpus:four"),
        ("cpus:-1", "cpus:-1"),
        ("ports:[32000-31000]", "ports:[32000-31000]"),
        ("ports:[31000-32000", "ports:[31000-32000"),
        ("ports:[a-b]", "ports:[a-b]"),
        ("disks:{a,,b}", "disks:{a,,b}"),
        ("ports:[1-2,,5-6]", "ports:[1-2,,5-6]"),
        ("cpus(eng:2", "cpus(eng:2"),
        ("cpus(/eng):2", "cpus(/eng):2"),
        (":4", ":4"),
        ("mem:", "mem:"),
    ]

    @Test(arguments: bad)
    func refusesNamingTheToken(text: String, token: String) {
        do {
            _ = try Resources.parse(text)
            Issue.record("\(text) parsed")
        } catch let error as BerthError {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("\"\(token)\""), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite("Resources JSON")
struct ResourcesCodingTests {
    @Test func readsMesosShapes() throws {
        let json = """
            [
              {"name":"cpus","type":"SCALAR","scalar":{"value":0.30000000000000004}},
              {"name":"mem","type":"SCALAR","scalar":{"value":1024.0},"reservations":[{"type":"STATIC","role":"eng"}]},
              {"name":"disk","type":"SCALAR","scalar":{"value":100},"role":"ops","allocation_info":{"role":"ops"}},
              {"name":"gpus","type":"SCALAR","scalar":{"value":1},"role":"*"},
              {"name":"ports","type":"RANGES","ranges":{"range":[{"begin":33000,"end":33010},{"begin":31000,"end":32000}]}},
              {"name":"disks","type":"SET","set":{"item":["b","a"]}}
            ]
            """
        let resources = try JSONDecoder().decode(Resources.self, from: Data(json.utf8))
        #expect(resources == (try Resources.parse("cpus:0.3;mem(eng):1024;disk(ops):100;gpus:1;ports:[31000-32000,33000-33010];disks:{a,b}")))
    }

    @Test func roundTripsAndWritesMesosShape() throws {
        let resources = try Resources.parse("cpus:0.1;mem(eng):32;ports:[31000-32000];disks:{a}")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(resources)
        #expect(try JSONDecoder().decode(Resources.self, from: data) == resources)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#"{"name":"cpus","scalar":{"value":0.1},"type":"SCALAR"}"#))
        #expect(text.contains(#""reservations":[{"role":"eng","type":"STATIC"}]"#))
        #expect(text.contains(#""ranges":{"range":[{"begin":31000,"end":32000}]}"#))
        #expect(text.contains(#""set":{"item":["a"]}"#))
    }

    static let bad: [(String, String)] = [
        (#"{"name":"cpus","type":"SCALAR","scalar":{"value":-1}}"#, "non-negative"),
        (#"{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":5,"end":1}]}}"#, "ends before it begins"),
        (#"{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"eng"}]}"#, "not supported"),
        (#"{"name":"cpus","type":"SCALAR","scalar":{"value":1},"role":"/bad"}"#, "/bad"),
        (#"{"name":"cpus","type":"TEXT"}"#, "TEXT"),
    ]

    @Test(arguments: bad)
    func refuses(json: String, fragment: String) {
        do {
            _ = try JSONDecoder().decode(Resource.self, from: Data(json.utf8))
            Issue.record("\(json) decoded")
        } catch {
            #expect(String(describing: error).contains(fragment), "\(error)")
        }
    }
}
