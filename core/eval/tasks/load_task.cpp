// load_task (task.h): the spec's data read and checked by the task's own reader.
#include "core/eval/tasks/mmlu.h"
#include "core/eval/tasks/multiple_choice.h"
#include "core/eval/tasks/task.h"
#include "core/eval/tasks/task_files.h"
#include "core/util/error.h"

#include <map>

namespace rilq {

std::unique_ptr<Task> load_task(const TaskSpec& spec) {
    const TaskInfo& info = task_info(spec.name);
    if (spec.limit < 0) throw Error(spec.name + ": limit must be >= 0, found " + std::to_string(spec.limit));
    if (info.family == TaskFamily::Mmlu) return make_mmlu_task(info, spec);
    if (spec.shots > 0)
        throw Error(spec.name +
                    ": only zero-shot is supported (lm-eval's protocol for the common-sense tasks); "
                    "found shots " +
                    std::to_string(spec.shots));
    if (!spec.subjects.empty()) throw Error(spec.name + ": subjects apply to mmlu only");
    using Reader = McData (*)(const std::string& file);
    static const std::map<std::string, Reader> readers = {
        {"arc_easy", read_arc},        {"arc_challenge", read_arc},     {"piqa", read_piqa},
        {"hellaswag", read_hellaswag}, {"winogrande", read_winogrande}, {"boolq", read_boolq}};
    const std::string file = resolve_task_file(info.name, spec.path, info.default_file);
    return make_multiple_choice_task(info, spec, readers.at(info.name)(file));
}

} // namespace rilq
