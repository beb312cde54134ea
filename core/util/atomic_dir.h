// A folder replaced as a whole: `fill` writes a temp folder beside the target, every file in it
// is fsynced, then it takes the target's place in one step (renameat2 RENAME_EXCHANGE where the
// file system supports it, else two renames whose gap the next writer repairs), and the folder
// holding both is fsynced. A reader always finds the old folder or the new one; a crash leaves
// at most temp siblings, which the next write of the same target (or
// clean_stale_temp_siblings) removes once their process is gone.
//
// Replacing is the dangerous part: an existing target is replaced only when it is empty or the
// caller's ReplaceRule recognises it as the caller's own earlier output. Anything else is an
// Error naming the folder, raised before `fill` runs; nothing is touched.
#pragma once
#include <functional>
#include <string>

namespace rilq {

struct ReplaceRule {
    // What a replaceable folder is, for the error: "the output folder of run 1a2b3c4d".
    std::string describes;
    // True when the existing folder `dir` is that. Empty: no non-empty folder is replaced.
    std::function<bool(const std::string& dir)> recognises;
};

// Error (naming `dir` and rule.describes) when `dir` exists and is neither an empty folder nor
// recognised by the rule. Absent: fine.
void check_replaceable(const std::string& dir, const ReplaceRule& rule);

// Writes `dir` as described above. On any exception the temp folder is removed and `dir` is
// what it was.
void write_dir_atomic(const std::string& dir, const ReplaceRule& rule,
                      const std::function<void(const std::string& tmp_dir)>& fill);

} // namespace rilq
