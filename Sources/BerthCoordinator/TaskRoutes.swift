import BerthCore
import BerthProtocol
import Hummingbird

/// `POST /api/v1/tasks/{task_id}/kill[?framework_id=ID]`: an operator kills a task whichever
/// framework runs it (Berth's addition; Mesos' operator API has none). 202 when the kill went
/// to the agent, 404 for no such live task, 409 when the ID is ambiguous without framework_id.
enum TaskRoutes {
    static func add(to router: Router<some RequestContext>, coordinator: Coordinator) {
        router.post("/api/v1/tasks/:task/kill") { request, context in
            let task = TaskID(try context.parameters.require("task"))
            let framework = request.uri.queryParameters.get("framework_id").map { FrameworkID(String($0)) }
            try await coordinator.operatorKill(task, framework: framework)
            return Response(status: .accepted)
        }
    }
}

extension Coordinator {
    func operatorKill(_ task: TaskID, framework: FrameworkID?) throws {
        let live = tasks.values.filter { $0.info.taskID == task && !$0.status.state.isTerminal && (framework == nil || $0.framework == framework) }
        guard let target = live.first else {
            throw BerthError(.notFound, "no live task \(task)\(framework.map { " of framework \($0)" } ?? ""); berth task ls lists them")
        }
        guard live.count == 1 else {
            throw BerthError(.invalidState, "tasks of \(live.count) frameworks have ID \(task) (\(live.map(\.framework.value).sorted().joined(separator: ", "))); say which with --framework")
        }
        logger.info("operator kill", metadata: ["task": "\(task)", "framework": "\(target.framework)"])
        kill(Call.Kill(taskID: task, agentID: target.agent), from: target.framework)
    }
}
