// Names for the temp files and folders that atomic writes put beside their target, and the
// clean-up of those a dead process left behind.
//
// A temp sibling of TARGET is named TARGET.tmp-<host>-<pid>-<start>-<random> (being written) or
// TARGET.old-<host>-<pid>-<start>-<random> (the previous version, moved aside during a swap on a
// file system without an atomic exchange). <host> is an 8-hex tag of the host name, <pid> and
// <start> identify the writing process (core/store/process_identity.h), so a later process can
// tell a sibling of a live writer from the leftovers of one that crashed or was killed.
#pragma once
#include <string>

namespace rilq {

// A fresh sibling path of `target` for this process: kind is "tmp" or "old".
std::string temp_sibling(const std::string& target, const char* kind = "tmp");

// Removes the temp siblings of `target` left by dead processes of this host. When `target` is
// missing and a dead process left an ".old" sibling (a swap cut short), that previous version
// is renamed back to `target` first, so a reader finds the last complete version again.
// Siblings of live processes, of other hosts, and anything that does not parse are left alone.
// Returns how many entries it removed or restored; errors are ignored (best effort).
int clean_stale_temp_siblings(const std::string& target);

} // namespace rilq
