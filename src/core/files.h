#pragma once
// Files that hold payouts, sealed cards and messages are their owner's alone: directories 0700,
// files 0600, whatever the umask of whoever started the process (main sets 077 before anything
// else; these make sure of the files that matter), and tightened when an older release left them
// readable by others.
#include <string>

namespace payoutd {

// Creates `dir` and its missing parents; `dir` itself ends up 0700 (existing parents are left as
// they are). Throws std::runtime_error on failure.
// The message of an errno value, safe from any thread (std::strerror is not).
std::string errno_text(int err);

void make_private_directory(const std::string& dir);

// Makes an SQLite database file and the companions SQLite keeps beside it (-wal, -shm) 0600,
// those that exist. New companions inherit the database file's mode (SQLite creates them so).
// Throws std::runtime_error when one exists and cannot be changed.
void make_private_database(const std::string& path);

}  // namespace payoutd
