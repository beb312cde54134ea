#include "core/store/recorded_run.h"

#include "core/store/run_store.h"
#include "core/util/error.h"

namespace rilq::store {

std::string run_recorded(RunStore& store, const NewRun& run,
                         const std::function<RunEnd(const std::string& uuid)>& work) {
    const std::string uuid = store.create_run(run);
    store.start_run(uuid);
    RunEnd end;
    try {
        end = work(uuid);
    } catch (const Cancelled&) {
        store.end_run(uuid, RunStatus::Killed, "cancelled");
        throw;
    } catch (const std::exception& e) {
        store.end_run(uuid, RunStatus::Failed, e.what());
        throw;
    }
    store.end_run(uuid, end.status, end.message);
    return uuid;
}

} // namespace rilq::store
