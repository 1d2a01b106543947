#pragma once
// The standard process metrics (process_open_fds, process_max_fds, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_cpu_seconds_total, process_start_time_seconds) and
// process_threads, read from /proc when a scrape asks. A value /proc does not give (another
// kernel, a field missing) is left out rather than written as 0.
#include "core/metrics.h"

namespace payoutd::metrics {

void write_process(Exposition& out);

}  // namespace payoutd::metrics
