// Names that become one component of a path (an experiment name in `runs/{experiment}/{run}`):
// whatever the name holds, the result is a single, ordinary folder name, so a name can never
// climb out of the folder it is placed in ("../../x"), reach the root ("/etc"), or smuggle a
// placeholder back into a stored path template ("{run}").
#pragma once
#include <string>

namespace rilq {

// '/', '\', '{', '}', control characters -> '_'; "" -> "_"; "." and ".." -> "_" and "__";
// longer than 200 bytes -> its first 191 bytes (cut at a UTF-8 boundary) + "-" + 8 hex digits
// of a hash of the whole name (names stay distinct).
std::string safe_path_component(const std::string& name);

} // namespace rilq
