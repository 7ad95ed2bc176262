// Trace readers: load a request trace from a file and remap its object keys to dense ids.
//
// Formats:
//  - kText: one object id per line, an unsigned 64-bit decimal integer; surrounding blanks are
//    ignored, blank lines and lines starting with '#' are skipped. Anything else is an error:
//    silently interning a mistyped line would hide a corrupted trace.
//  - kOracleGeneral: libCacheSim's binary oracleGeneral format, a sequence of packed
//    little-endian 24-byte records {uint32 clock_time; uint64 obj_id; uint32 obj_size;
//    int64 next_access_vtime} (libCacheSim/traceReader/customizedReader/oracle/
//    oracleGeneralBin.h). Only obj_id is used: the simulator counts objects, not bytes, and
//    computes next use itself. Records with obj_size 0 are kept.
//
// Invariants of a loaded Trace:
//  1. dense ids are assigned in order of first appearance, starting at 0;
//  2. object_keys[id] is the key the trace used for dense id `id`;
//  3. a trace holds at least one request.
// Thread-safety: free functions without shared state.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_TRACE_READER_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_TRACE_READER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "request_stream.h"
#include "result.h"

namespace cachesim {

enum class TraceFormat { kText, kOracleGeneral };

// "text" | "oracle-general" (also libCacheSim's spelling "oracleGeneral").
std::optional<TraceFormat> ParseTraceFormat(std::string_view name);
std::string_view TraceFormatName(TraceFormat format);

inline constexpr size_t kOracleGeneralRecordBytes = 24;

struct Trace {
  RequestStream requests;
  std::vector<uint64_t> object_keys;
};

// Errors name the file and the line (text) or 1-based record number (oracleGeneral).
Result<Trace> ReadTrace(const std::string& path, TraceFormat format);

}  // namespace cachesim

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_TRACE_READER_H_
