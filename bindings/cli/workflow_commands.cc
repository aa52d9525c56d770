// plan workflow: a plan in, the LaunchedWorkflows request body out (the facade builds it).

#include "bindings/cli/commands.h"

namespace preflight::cli {

absl::StatusOr<std::string> RunPlanWorkflow(const Args& args) {
  auto identity = args.Get("identity");
  if (!identity || identity->empty()) return UsageError(args, "plan workflow needs --identity NAME");
  auto limits = LimitsFrom(args);
  if (!limits.ok()) return limits.status();
  std::string file = args.operands.empty() ? "-" : args.operands[0];
  auto text = ReadInput(file);
  if (!text.ok()) return text.status();
  WorkflowLaunch launch;
  launch.identity = *identity;
  if (auto workflow = args.Get("workflow")) launch.workflow = *workflow;
  launch.plan = *std::move(text);
  launch.plan_type = args.Get("plan-type").value_or("");
  auto body = PlanWorkflowJson(launch, Indent(args), *limits);
  if (!body.ok()) return WithFile(body.status(), file);
  return body;
}

}  // namespace preflight::cli
