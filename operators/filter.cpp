// filter: SPEC §5 "filter" — passes the records for which `where` is true (SPEC §4: only the
// boolean true counts). Stateless in time: late records pass like any other.
#include "operators/registry.h"

namespace licflow {
namespace {

class Filter final : public Operator {
 public:
  explicit Filter(Expression where) : Operator({"out"}), where_(std::move(where)) {}

  bool stateless() const override { return true; }
  // Several streams of one source come merged in the source's order, each record with the
  // watermark the source had before it (engine/input_join.h).
  bool join_inputs() override { return true; }
  bool forwards_batches() const override { return true; }
  std::optional<std::vector<FieldId>> fields_read_forwarding() const override {
    std::vector<FieldId> fields;
    where_.collect_fields(fields);
    return fields;
  }

  void process(size_t, const BatchPtr& batch, Emitter& out) override {
    const std::vector<Record>& in = batch->records;
    size_t first_rejected = 0;
    while (first_rejected < in.size() && where_.test(in[first_rejected])) ++first_rejected;
    if (first_rejected == in.size()) {
      out.emit(0, batch);  // everything passed: forward the batch itself, no copy
      return;
    }
    Batch kept = derived_from(*batch);
    // Sole owner of the batch (the usual case: one consumer): the kept records move, not copy.
    std::vector<Record>* movable = records_to_move(batch);
    kept.records.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      if (i != first_rejected && (i < first_rejected || where_.test(in[i]))) {
        append_from(kept, *batch, i, movable != nullptr ? std::move((*movable)[i]) : in[i]);
      }
    }
    out.emit(0, std::move(kept));
  }

 private:
  Expression where_;
};

}  // namespace

std::unique_ptr<Operator> make_filter(NodeConfig& config) {
  auto where = config.get_expression("where", true);
  if (config.failed()) return nullptr;
  return std::make_unique<Filter>(std::move(*where));
}

}  // namespace licflow
