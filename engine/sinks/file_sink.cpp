// stdout and file sinks (SPEC §6): one record per line, tagged with `stream`.
// jsonl: the record as a JSON object. csv (RFC 4180 quoting): a header row, then one row per
// record. The columns are `columns:` when given, else `stream`, `ts` and the first record's
// fields; fields a later record has beyond those go, as a JSON object, to a last column `extra`,
// so no value is dropped silently.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "engine/csv.h"
#include "engine/json_writer.h"
#include "engine/sinks/sink.h"
#include "engine/time_format.h"

namespace licflow {
namespace {

enum class Format { kJsonl, kCsv };

// Strings bare; numbers, booleans and objects (an alert's `record`) as their JSON text.
void append_csv_value(std::string& out, const Value& v, std::string& scratch) {
  if (v.is_null()) return;
  if (v.is_string()) return append_csv_cell(out, v.as_string());
  scratch.clear();
  append_json_value(scratch, v);
  append_csv_cell(out, scratch);
}

class FileSink final : public Sink {
 public:
  FileSink(std::string id, std::string path, Format format, std::vector<std::string> columns)
      : Sink(std::move(id)), path_(std::move(path)), format_(format) {
    for (const std::string& c : columns) columns_.push_back(intern_field(c));
    fixed_columns_ = !columns_.empty();
  }

  Status open() override {
    if (path_ == "-") {
      file_ = stdout;
      return Status::ok();
    }
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(path_).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (!resume_) {
      file_ = std::fopen(path_.c_str(), "wb");
    } else {
      // Resumed: the file must still hold what the checkpoint recorded, which is kept.
      struct stat st {};
      const bool exists = ::stat(path_.c_str(), &st) == 0;
      const uint64_t size = exists ? static_cast<uint64_t>(st.st_size) : 0;
      if (size < resume_size_) {
        return Status::error(
            "sink `" + id() + "`: " + path_ +
            (exists ? " holds " + std::to_string(size) + " bytes," : " is gone,") +
            " but the checkpoint recorded " + std::to_string(resume_size_) +
            " written to it: was the file changed, or the sink's path? (--reset-state starts "
            "over)");
      }
      if (::truncate(path_.c_str(), static_cast<off_t>(resume_size_)) != 0 && exists) {
        return Status::error("sink `" + id() + "`: cannot cut " + path_ + " back to its " +
                             "checkpointed size " + std::to_string(resume_size_) + ": " +
                             std::strerror(errno));
      }
      file_ = std::fopen(path_.c_str(), "ab");
    }
    if (file_ == nullptr) {
      return Status::error("sink `" + id() + "`: cannot open " + path_ + ": " +
                           std::strerror(errno));
    }
    // Known columns make the header at once: a table that gets no rows is still a table.
    if (format_ == Format::kCsv && fixed_columns_ && !header_written_) {
      std::string header;
      append_csv_header(header);
      return write(header);
    }
    return Status::ok();
  }

  bool can_resume() const override { return path_ != "-"; }
  std::string output_identity() const override {
    // `out.jsonl` and `./out.jsonl` are one file; the same name from another directory is not.
    std::error_code ec;
    std::string identity = std::filesystem::absolute(path_, ec).lexically_normal().string();
    identity += format_ == Format::kCsv ? ", csv" : ", jsonl";
    if (!fixed_columns_) return identity;  // columns_ is then the first record's, not config
    identity += ", columns";
    for (FieldId c : columns_) {
      identity += ' ';
      identity += field_name(c);
    }
    return identity;
  }

  Status save_state(StateWriter& out) override {
    // fdatasync too: the checkpoint that records this size must not outlive the bytes.
    if (std::fflush(file_) != 0 || ::fdatasync(::fileno(file_)) != 0) {
      return Status::error("sink `" + id() + "`: flushing " + path_ + " failed: " +
                           std::strerror(errno));
    }
    const long size = std::ftell(file_);
    if (size < 0) return Status::error("sink `" + id() + "`: cannot tell the size of " + path_);
    out.u64(static_cast<uint64_t>(size));
    out.boolean(header_written_);
    out.u64(fixed_columns_ ? 0 : columns_.size());
    if (!fixed_columns_) {
      for (FieldId c : columns_) out.str(field_name(c));
    }
    return Status::ok();
  }

  void load_state(StateReader& in) override {
    resume_ = true;
    resume_size_ = in.u64();
    header_written_ = in.boolean();
    const uint64_t inferred = in.count(8);
    if (fixed_columns_ && inferred != 0) return in.fail();
    if (!fixed_columns_) {
      columns_.clear();
      for (uint64_t i = 0; i < inferred && !in.failed(); ++i) columns_.push_back(intern_field(in.str()));
    }
  }

  bool parallel_format() const override { return format_ == Format::kJsonl; }

  void format(std::span<const Record> records, std::string_view stream, std::string& out) override {
    for (const Record& r : records) {
      if (format_ == Format::kJsonl) {
        append_record_json(out, r, stream);
      } else {
        append_csv_row(out, r, stream);
      }
      out += '\n';
    }
  }

  // Each batch goes out at once (one write(2) per batch: batches are large): a live pipeline's
  // output must not wait in a buffer for the next records.
  Status write(std::string_view bytes) override {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size() ||
        std::fflush(file_) != 0) {
      return Status::error("sink `" + id() + "`: write to " + path_ + " failed: " +
                           std::strerror(errno));
    }
    return Status::ok();
  }

  Status close() override {
    if (file_ == nullptr) return Status::ok();
    int rc = file_ == stdout ? std::fflush(file_) : std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) {
      return Status::error("sink `" + id() + "`: closing " + path_ + " failed: " +
                           std::strerror(errno));
    }
    return Status::ok();
  }

 private:
  void append_csv_header(std::string& out) {
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) out += ',';
      append_csv_cell(out, field_name(columns_[i]));
    }
    if (!fixed_columns_) out += ",extra";
    out += '\n';
    header_written_ = true;
  }

  // Serial only: the header comes from the first record (or from `columns:`, at open).
  void append_csv_row(std::string& out, const Record& r, std::string_view stream) {
    if (!header_written_) {
      if (!fixed_columns_) {
        columns_ = {field::kStream, field::kTs};
        // A record's own `stream` is replaced by the stream's name, as in jsonl (SPEC §6); its
        // own `extra` goes into the `extra` column's object, so no column name is repeated.
        static const FieldId kExtra = intern_field("extra");
        for (const Field& f : r.fields()) {
          if (f.id != field::kStream && f.id != kExtra) columns_.push_back(f.id);
        }
      }
      append_csv_header(out);
    }
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) out += ',';
      FieldId id = columns_[i];
      if (id == field::kStream) {
        append_csv_cell(out, stream);
      } else if (id == field::kTs) {
        append_rfc3339(out, r.ts);
      } else if (const Value* v = r.find(id)) {
        append_csv_value(out, *v, scratch_);
      }
    }
    if (fixed_columns_) return;
    out += ',';
    extra_.clear();
    for (const Field& f : r.fields()) {
      if (std::find(columns_.begin(), columns_.end(), f.id) != columns_.end()) continue;
      extra_ += extra_.empty() ? '{' : ',';
      append_json_string(extra_, field_name(f.id));
      extra_ += ':';
      append_json_value(extra_, f.value);
    }
    if (!extra_.empty()) {
      extra_ += '}';
      append_csv_cell(out, extra_);
    }
  }

  std::string path_;
  Format format_;
  std::vector<FieldId> columns_;
  bool fixed_columns_ = false;
  bool header_written_ = false;
  bool resume_ = false;       // recovering: continue the file at resume_size_
  uint64_t resume_size_ = 0;
  std::FILE* file_ = nullptr;
  std::string scratch_, extra_;
};

std::unique_ptr<Sink> make_sink(NodeConfig& config, std::string path) {
  auto format = config.get_string("format", false).value_or("jsonl");
  auto columns = config.get_string_list("columns", false);
  Format f = Format::kJsonl;
  if (format == "csv") {
    f = Format::kCsv;
  } else if (format != "jsonl") {
    config.error("format", "`" + config.id() + "`: unknown format `" + format +
                               "` (valid: jsonl, csv)");
  }
  if (columns && !columns->empty() && f != Format::kCsv) {
    config.error("columns", "`" + config.id() + "`: `columns` applies only to format csv");
  }
  if (config.failed()) return nullptr;
  return std::make_unique<FileSink>(config.id(), std::move(path), f,
                                    columns.value_or(std::vector<std::string>{}));
}

}  // namespace

std::unique_ptr<Sink> make_stdout_sink_from_config(NodeConfig& config) {
  return make_sink(config, "-");
}

std::unique_ptr<Sink> make_file_sink_from_config(NodeConfig& config) {
  auto path = config.get_path("path", true);
  if (!path) return nullptr;
  return make_sink(config, *path);
}

}  // namespace licflow
