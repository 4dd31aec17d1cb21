// SPEC §4 Expressions: parser (precedence climbing into an immutable AST) and evaluator.
#include "config/expression.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "config/regex.h"

namespace licflow {
namespace detail {

enum class NodeKind : uint8_t {
  kLiteral,
  kField,
  kTs,      // the record's `ts` member, which is not stored among its fields
  kList,    // only meaningful under `in` / `==`; anywhere else it evaluates to null
  kExists,  // exists(field)
  kNot,
  kAnd,
  kOr,
  kNeg,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kNotIn,
  kMatch,  // =~ with the regex compiled at parse time
};

struct ExprNode {
  explicit ExprNode(NodeKind k) : kind(k) {}

  NodeKind kind;
  uint16_t height = 1;  // longest path to a leaf; bounded at parse time, see kMaxDepth
  FieldId field = 0;    // kField, kExists
  Value literal;        // kLiteral
  std::unique_ptr<const ExprNode> lhs;                 // unary operand or left side
  std::unique_ptr<const ExprNode> rhs;                 // right side
  std::vector<std::unique_ptr<const ExprNode>> items;  // kList
  std::unique_ptr<const Regex> regex;                  // kMatch
};

}  // namespace detail

namespace {

using detail::ExprNode;
using detail::NodeKind;
using NodePtr = std::unique_ptr<ExprNode>;

// Deep trees would make the recursive parser and evaluator overflow the stack on hostile input;
// no real filter comes close to this.
constexpr int kMaxDepth = 256;

// ---------------------------------------------------------------------------------------------
// Lexer

enum class Tok : uint8_t {
  kEnd,
  kError,  // a lexical error; the parser reports it when it reaches it, so errors stay in order
  kIdent,
  kNumber,
  kString,
  kAnd,
  kOr,
  kNot,
  kIn,
  kTrue,
  kFalse,
  kNull,
  kExists,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kMatch,
  kPlus,
  kMinus,
  kStar,
  kSlash,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t offset = 0;
  std::string_view raw;  // the token's source text
  Value value;           // kNumber, kString (decoded)
  // The literal 9223372036854775808, which is an int64 only under unary minus.
  bool int64_min_magnitude = false;
  std::string error;  // kError
};

bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

Tok keyword_kind(std::string_view word) {
  // Keywords are case-sensitive: `AND` is a field name.
  if (word == "and") return Tok::kAnd;
  if (word == "or") return Tok::kOr;
  if (word == "not") return Tok::kNot;
  if (word == "in") return Tok::kIn;
  if (word == "true") return Tok::kTrue;
  if (word == "false") return Tok::kFalse;
  if (word == "null") return Tok::kNull;
  if (word == "exists") return Tok::kExists;
  return Tok::kIdent;
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  // Tokenizes everything up to the first lexical error, which becomes a kError token.
  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      Token t = next();
      Tok kind = t.kind;
      out.push_back(std::move(t));
      if (kind == Tok::kEnd) break;
      if (kind == Tok::kError) {
        // A final kEnd keeps the parser's lookahead in range.
        out.emplace_back().offset = text_.size();
        break;
      }
    }
    return out;
  }

 private:
  Token make(Tok kind, size_t start, size_t len) {
    Token t;
    t.kind = kind;
    t.offset = start;
    t.raw = text_.substr(start, len);
    pos_ = start + len;
    return t;
  }

  Token error(size_t at, std::string message) {
    Token t;
    t.kind = Tok::kError;
    t.offset = at;
    t.raw = text_.substr(at, 1);
    t.error = std::move(message);
    return t;
  }

  char at(size_t i) const { return i < text_.size() ? text_[i] : '\0'; }

  Token next() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    size_t start = pos_;
    if (start >= text_.size()) {
      Token t;
      t.offset = text_.size();
      return t;
    }
    char c = text_[start];
    char c1 = at(start + 1);
    if (is_ident_start(c)) {
      size_t end = start + 1;
      while (end < text_.size() && is_ident_char(text_[end])) ++end;
      return make(keyword_kind(text_.substr(start, end - start)), start, end - start);
    }
    if (is_digit(c) || (c == '.' && is_digit(c1))) return number(start);
    if (c == '\'' || c == '"') return string(start);
    switch (c) {
      case '(':
        return make(Tok::kLParen, start, 1);
      case ')':
        return make(Tok::kRParen, start, 1);
      case '[':
        return make(Tok::kLBracket, start, 1);
      case ']':
        return make(Tok::kRBracket, start, 1);
      case ',':
        return make(Tok::kComma, start, 1);
      case '+':
        return make(Tok::kPlus, start, 1);
      case '-':
        return make(Tok::kMinus, start, 1);
      case '*':
        return make(Tok::kStar, start, 1);
      case '/':
        return make(Tok::kSlash, start, 1);
      case '<':
        return c1 == '=' ? make(Tok::kLe, start, 2) : make(Tok::kLt, start, 1);
      case '>':
        return c1 == '=' ? make(Tok::kGe, start, 2) : make(Tok::kGt, start, 1);
      case '=':
        if (c1 == '=') return make(Tok::kEq, start, 2);
        if (c1 == '~') return make(Tok::kMatch, start, 2);
        return error(start, "unexpected '=' (did you mean '=='?)");
      case '!':
        if (c1 == '=') return make(Tok::kNe, start, 2);
        return error(start, "unexpected '!' (use 'not' or '!=')");
      case '&':
        return error(start, "unexpected '&' (use 'and')");
      case '|':
        return error(start, "unexpected '|' (use 'or')");
      default:
        break;
    }
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return error(start, "unexpected character (byte 0x" + hex(c) + ")");
    }
    return error(start, std::string("unexpected character '") + c + "'");
  }

  static std::string hex(char c) {
    static constexpr char kDigits[] = "0123456789abcdef";
    auto u = static_cast<unsigned char>(c);
    return {kDigits[u >> 4], kDigits[u & 15]};
  }

  // digits ['.' digits*] [(e|E) [+-] digits+], or '.' digits [...]. An integer without '.' or
  // exponent is an int64; one too large for int64 becomes a double rather than an error.
  Token number(size_t start) {
    size_t p = start;
    bool is_real = false;
    while (is_digit(at(p))) ++p;
    if (at(p) == '.') {
      is_real = true;
      ++p;
      while (is_digit(at(p))) ++p;
    }
    if (at(p) == 'e' || at(p) == 'E') {
      size_t q = p + 1;
      if (at(q) == '+' || at(q) == '-') ++q;
      if (!is_digit(at(q))) {
        return error(start, "invalid number '" + std::string(text_.substr(start, q - start)) + "'");
      }
      while (is_digit(at(q))) ++q;
      p = q;
      is_real = true;
    }
    if (is_ident_char(at(p)) || at(p) == '.') {
      size_t q = p;
      while (is_ident_char(at(q)) || at(q) == '.') ++q;
      return error(start, "invalid number '" + std::string(text_.substr(start, q - start)) + "'");
    }
    Token t = make(Tok::kNumber, start, p - start);
    const char* first = text_.data() + start;
    const char* last = text_.data() + p;
    if (!is_real) {
      int64_t i = 0;
      auto [ptr, ec] = std::from_chars(first, last, i);
      if (ec == std::errc() && ptr == last) {
        t.value = Value(i);
        return t;
      }
      uint64_t u = 0;
      auto [uptr, uec] = std::from_chars(first, last, u);
      t.int64_min_magnitude = uec == std::errc() && uptr == last && u == (uint64_t{1} << 63);
    }
    double d = 0;
    auto [ptr, ec] = std::from_chars(first, last, d, std::chars_format::general);
    if (ec != std::errc() || ptr != last || !std::isfinite(d)) {
      return error(start, "number out of range '" + std::string(t.raw) + "'");
    }
    t.value = Value(d);
    return t;
  }

  // Escapes \\ \' \" \n \t \r are decoded; any other backslash pair is kept as written, so that
  // regex literals such as '\d+' or '\.' mean what they say without doubling the backslash.
  Token string(size_t start) {
    char quote = text_[start];
    std::string s;
    size_t p = start + 1;
    for (;;) {
      if (p >= text_.size()) return error(start, "unterminated string");
      char c = text_[p];
      if (c == quote) break;
      if (c == '\\') {
        if (p + 1 >= text_.size()) return error(start, "unterminated string");
        char e = text_[p + 1];
        switch (e) {
          case '\\':
            s += '\\';
            break;
          case '\'':
            s += '\'';
            break;
          case '"':
            s += '"';
            break;
          case 'n':
            s += '\n';
            break;
          case 't':
            s += '\t';
            break;
          case 'r':
            s += '\r';
            break;
          default:
            s += '\\';
            s += e;
            break;
        }
        p += 2;
        continue;
      }
      s += c;
      ++p;
    }
    Token t = make(Tok::kString, start, p + 1 - start);
    t.value = Value(std::move(s));
    return t;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Evaluation helpers (also used for constant folding at parse time)

const Value kNullValue;

enum class Order : uint8_t { kLess, kEqual, kGreater, kUnordered };

template <typename T>
Order order_of(T a, T b) {
  if (a < b) return Order::kLess;
  if (b < a) return Order::kGreater;
  if (a == b) return Order::kEqual;
  return Order::kUnordered;  // NaN
}

// Exact, unlike converting the int to double, which would make 2^53 + 1 == 2^53.
Order compare_int_double(int64_t a, double b) {
  if (std::isnan(b)) return Order::kUnordered;
  constexpr double kTwo63 = 9223372036854775808.0;
  if (b >= kTwo63) return Order::kLess;
  if (b < -kTwo63) return Order::kGreater;
  double whole = std::trunc(b);  // within [-2^63, 2^63), so exactly representable as int64
  auto t = static_cast<int64_t>(whole);
  if (a != t) return a < t ? Order::kLess : Order::kGreater;
  double frac = b - whole;
  if (frac > 0) return Order::kLess;
  if (frac < 0) return Order::kGreater;
  return Order::kEqual;
}

Order invert(Order o) {
  if (o == Order::kLess) return Order::kGreater;
  if (o == Order::kGreater) return Order::kLess;
  return o;
}

// REQUIRES: both are numbers.
Order compare_numbers(const Value& a, const Value& b) {
  if (a.is_int()) {
    return b.is_int() ? order_of(a.as_int(), b.as_int())
                      : compare_int_double(a.as_int(), b.as_double());
  }
  return b.is_int() ? invert(compare_int_double(b.as_int(), a.as_double()))
                    : order_of(a.as_double(), b.as_double());
}

// SPEC §4 `==`: numbers numerically across int/double, otherwise same kind and same value.
bool values_equal(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b) == Order::kEqual;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case ValueKind::kNull:
      return true;
    case ValueKind::kBool:
      return a.as_bool() == b.as_bool();
    case ValueKind::kString:
      return a.as_string() == b.as_string();
    case ValueKind::kObject:
      return a.as_object() == b.as_object();  // only the very same object
    default:
      return false;
  }
}

// Ordering is defined for two numbers or two strings (byte-wise); anything else is false.
bool values_ordered(const Value& a, const Value& b, NodeKind op) {
  Order o;
  if (a.is_number() && b.is_number()) {
    o = compare_numbers(a, b);
  } else if (a.is_string() && b.is_string()) {
    int c = a.as_string().compare(b.as_string());  // char_traits<char>::compare is memcmp
    o = c < 0 ? Order::kLess : (c > 0 ? Order::kGreater : Order::kEqual);
  } else {
    return false;
  }
  switch (op) {
    case NodeKind::kLt:
      return o == Order::kLess;
    case NodeKind::kLe:
      return o == Order::kLess || o == Order::kEqual;
    case NodeKind::kGt:
      return o == Order::kGreater;
    case NodeKind::kGe:
      return o == Order::kGreater || o == Order::kEqual;
    default:
      return false;
  }
}

Value negate(const Value& v) {
  if (v.is_double()) return Value(-v.as_double());
  if (v.is_int()) {
    int64_t i = v.as_int();
    if (i == std::numeric_limits<int64_t>::min()) return Value(-static_cast<double>(i));
    return Value(-i);
  }
  return Value();
}

// Integer + - * stay integral; on overflow the exact result does not fit, so give the double.
Value arithmetic(NodeKind op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) {
    if (op == NodeKind::kAdd && a.is_string() && b.is_string()) {
      std::string s;
      s.reserve(a.as_string().size() + b.as_string().size());
      s += a.as_string();
      s += b.as_string();
      return Value(std::move(s));
    }
    return Value();
  }
  if (op == NodeKind::kDiv) {
    bool zero = b.is_int() ? b.as_int() == 0 : b.as_double() == 0.0;
    if (zero) return Value();
    return Value(a.as_number() / b.as_number());
  }
  if (a.is_int() && b.is_int()) {
    int64_t x = a.as_int();
    int64_t y = b.as_int();
    int64_t r = 0;
    bool overflow = false;
    switch (op) {
      case NodeKind::kAdd:
        overflow = __builtin_add_overflow(x, y, &r);
        break;
      case NodeKind::kSub:
        overflow = __builtin_sub_overflow(x, y, &r);
        break;
      case NodeKind::kMul:
        overflow = __builtin_mul_overflow(x, y, &r);
        break;
      default:
        return Value();
    }
    if (!overflow) return Value(r);
  }
  double x = a.as_number();
  double y = b.as_number();
  switch (op) {
    case NodeKind::kAdd:
      return Value(x + y);
    case NodeKind::kSub:
      return Value(x - y);
    case NodeKind::kMul:
      return Value(x * y);
    default:
      return Value();
  }
}

bool is_comparison(Tok t) {
  switch (t) {
    case Tok::kEq:
    case Tok::kNe:
    case Tok::kLt:
    case Tok::kLe:
    case Tok::kGt:
    case Tok::kGe:
    case Tok::kIn:
    case Tok::kMatch:
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Parser. Every parse_* returns nullptr after recording the first error; callers just propagate.

class Parser {
 public:
  explicit Parser(std::string_view text) : tokens_(Lexer(text).run()) {}

  NodePtr parse() {
    if (peek().kind == Tok::kEnd) {
      fail(0, "empty expression");
      return nullptr;
    }
    NodePtr root = parse_or();
    if (!root) return nullptr;
    if (peek().kind != Tok::kEnd) {
      unexpected(peek());
      return nullptr;
    }
    return root;
  }

  const ExpressionError& error() const { return error_; }

 private:
  // Bounds the recursion of open constructs (parentheses, brackets, prefix operators); binary()
  // bounds the height of left-associative chains, which grow without recursing.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser& p) : p_(p) { ++p_.depth_; }
    ~DepthGuard() { --p_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;

   private:
    Parser& p_;
  };

  const Token& peek(size_t ahead = 0) const {
    size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
  }
  const Token& take() {
    const Token& t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }

  void fail(size_t offset, std::string message) {
    if (failed_) return;
    failed_ = true;
    error_.offset = offset;
    error_.message = std::move(message);
  }

  static std::string shorten(std::string_view s) {
    constexpr size_t kMax = 40;
    if (s.size() <= kMax) return std::string(s);
    return std::string(s.substr(0, kMax)) + "...";
  }

  // Reports `t` where something else was needed; a lexical error is reported as itself.
  void unexpected(const Token& t, std::string_view expected = {}) {
    if (t.kind == Tok::kError) return fail(t.offset, t.error);
    if (!expected.empty()) return fail(t.offset, std::string(expected));
    if (t.kind == Tok::kEnd) return fail(t.offset, "unexpected end of expression");
    if (t.kind == Tok::kString) return fail(t.offset, "unexpected string " + shorten(t.raw));
    fail(t.offset, "unexpected token '" + shorten(t.raw) + "'");
  }

  bool too_deep(size_t offset) {
    if (depth_ <= kMaxDepth) return false;
    fail(offset, "expression is nested too deeply");
    return true;
  }

  static NodePtr make(NodeKind kind, NodePtr lhs = nullptr, NodePtr rhs = nullptr) {
    auto n = std::make_unique<ExprNode>(kind);
    int h = 0;
    if (lhs) h = std::max<int>(h, lhs->height);
    if (rhs) h = std::max<int>(h, rhs->height);
    // Capped so the uint16_t cannot wrap; anything above kMaxDepth is rejected anyway.
    n->height = static_cast<uint16_t>(std::min(h + 1, kMaxDepth + 1));
    n->lhs = std::move(lhs);
    n->rhs = std::move(rhs);
    return n;
  }

  // Left-associative chains (`a + b + c + ...`) grow the tree without parser recursion; the
  // evaluator recurses on it, so the tree's height is bounded too.
  NodePtr binary(NodeKind kind, NodePtr lhs, NodePtr rhs, size_t offset) {
    NodePtr n = make(kind, std::move(lhs), std::move(rhs));
    if (n->height > kMaxDepth) {
      fail(offset, "expression is nested too deeply");
      return nullptr;
    }
    return n;
  }

  NodePtr parse_or() {
    NodePtr lhs = parse_and();
    while (lhs && peek().kind == Tok::kOr) {
      size_t at = take().offset;
      NodePtr rhs = parse_and();
      if (!rhs) return nullptr;
      lhs = binary(NodeKind::kOr, std::move(lhs), std::move(rhs), at);
    }
    return lhs;
  }

  NodePtr parse_and() {
    NodePtr lhs = parse_not();
    while (lhs && peek().kind == Tok::kAnd) {
      size_t at = take().offset;
      NodePtr rhs = parse_not();
      if (!rhs) return nullptr;
      lhs = binary(NodeKind::kAnd, std::move(lhs), std::move(rhs), at);
    }
    return lhs;
  }

  NodePtr parse_not() {
    if (peek().kind != Tok::kNot) return parse_comparison();
    size_t at = take().offset;
    DepthGuard guard(*this);
    if (too_deep(at)) return nullptr;
    NodePtr operand = parse_not();
    if (!operand) return nullptr;
    return make(NodeKind::kNot, std::move(operand));
  }

  // Reads a comparison operator at the cursor, including the two-token `not in`.
  std::optional<NodeKind> comparison_operator() {
    switch (peek().kind) {
      case Tok::kEq:
        return NodeKind::kEq;
      case Tok::kNe:
        return NodeKind::kNe;
      case Tok::kLt:
        return NodeKind::kLt;
      case Tok::kLe:
        return NodeKind::kLe;
      case Tok::kGt:
        return NodeKind::kGt;
      case Tok::kGe:
        return NodeKind::kGe;
      case Tok::kIn:
        return NodeKind::kIn;
      case Tok::kMatch:
        return NodeKind::kMatch;
      case Tok::kNot:
        if (peek(1).kind == Tok::kIn) return NodeKind::kNotIn;
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  bool at_comparison() const {
    return is_comparison(peek().kind) || (peek().kind == Tok::kNot && peek(1).kind == Tok::kIn);
  }

  NodePtr parse_comparison() {
    NodePtr lhs = parse_additive();
    if (!lhs) return nullptr;
    std::optional<NodeKind> op = comparison_operator();
    if (!op) {
      // After an operand `not` can only start `not in`.
      if (peek().kind == Tok::kNot) unexpected(peek(1), "expected 'in' after 'not'");
      if (failed_) return nullptr;
      return lhs;
    }
    size_t at = take().offset;
    if (*op == NodeKind::kNotIn) take();
    NodePtr node;
    if (*op == NodeKind::kMatch) {
      node = parse_regex(std::move(lhs));
    } else {
      NodePtr rhs = parse_additive();
      if (!rhs) return nullptr;
      node = binary(*op, std::move(lhs), std::move(rhs), at);
    }
    if (!node) return nullptr;
    if (at_comparison()) {
      fail(peek().offset, "comparison operators cannot be chained");
      return nullptr;
    }
    return node;
  }

  NodePtr parse_regex(NodePtr lhs) {
    const Token& t = peek();
    if (t.kind != Tok::kString) {
      unexpected(t, "right side of '=~' must be a string literal");
      return nullptr;
    }
    take();
    NodePtr n = make(NodeKind::kMatch, std::move(lhs));
    if (n->height > kMaxDepth) {
      fail(t.offset, "expression is nested too deeply");
      return nullptr;
    }
    std::string message;
    n->regex = Regex::compile(t.value.as_string(), &message);
    if (!n->regex) {
      fail(t.offset, "invalid regex: " + message);
      return nullptr;
    }
    return n;
  }

  NodePtr parse_additive() {
    NodePtr lhs = parse_multiplicative();
    while (lhs && (peek().kind == Tok::kPlus || peek().kind == Tok::kMinus)) {
      const Token& op = take();
      NodePtr rhs = parse_multiplicative();
      if (!rhs) return nullptr;
      NodeKind kind = op.kind == Tok::kPlus ? NodeKind::kAdd : NodeKind::kSub;
      lhs = binary(kind, std::move(lhs), std::move(rhs), op.offset);
    }
    return lhs;
  }

  NodePtr parse_multiplicative() {
    NodePtr lhs = parse_unary();
    while (lhs && (peek().kind == Tok::kStar || peek().kind == Tok::kSlash)) {
      const Token& op = take();
      NodePtr rhs = parse_unary();
      if (!rhs) return nullptr;
      NodeKind kind = op.kind == Tok::kStar ? NodeKind::kMul : NodeKind::kDiv;
      lhs = binary(kind, std::move(lhs), std::move(rhs), op.offset);
    }
    return lhs;
  }

  NodePtr parse_unary() {
    if (peek().kind != Tok::kMinus) return parse_primary();
    size_t at = take().offset;
    // `-9223372036854775808` is the smallest int64, not a double.
    if (peek().kind == Tok::kNumber && peek().int64_min_magnitude) {
      take();
      NodePtr n = make(NodeKind::kLiteral);
      n->literal = Value(std::numeric_limits<int64_t>::min());
      return n;
    }
    DepthGuard guard(*this);
    if (too_deep(at)) return nullptr;
    NodePtr operand = parse_unary();
    if (!operand) return nullptr;
    // Folding `-5` to a literal lets comparisons against it skip evaluation.
    if (operand->kind == NodeKind::kLiteral) {
      operand->literal = negate(operand->literal);
      return operand;
    }
    return make(NodeKind::kNeg, std::move(operand));
  }

  NodePtr literal(Value v) {
    NodePtr n = make(NodeKind::kLiteral);
    n->literal = std::move(v);
    return n;
  }

  NodePtr parse_primary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kNumber:
      case Tok::kString:
        take();
        return literal(t.value);
      case Tok::kTrue:
        take();
        return literal(Value(true));
      case Tok::kFalse:
        take();
        return literal(Value(false));
      case Tok::kNull:
        take();
        return literal(Value());
      case Tok::kIdent:
        return parse_identifier();
      case Tok::kExists:
        return parse_exists();
      case Tok::kLParen: {
        take();
        DepthGuard guard(*this);
        if (too_deep(t.offset)) return nullptr;
        NodePtr inner = parse_or();
        if (!inner) return nullptr;
        if (peek().kind != Tok::kRParen) {
          unexpected(peek(), "expected ')'");
          return nullptr;
        }
        take();
        return inner;
      }
      case Tok::kLBracket:
        return parse_list();
      default:
        unexpected(t);
        return nullptr;
    }
  }

  NodePtr parse_identifier() {
    const Token& t = take();
    if (peek().kind == Tok::kLParen) {
      fail(t.offset, "unknown function '" + shorten(t.raw) + "' (expected exists)");
      return nullptr;
    }
    if (t.raw == "ts") return make(NodeKind::kTs);
    NodePtr n = make(NodeKind::kField);
    n->field = intern_field(t.raw);
    return n;
  }

  NodePtr parse_exists() {
    take();
    if (peek().kind != Tok::kLParen) {
      unexpected(peek(), "expected '(' after 'exists'");
      return nullptr;
    }
    take();
    const Token& name = peek();
    if (name.kind != Tok::kIdent) {
      unexpected(name, "exists() takes a field name");
      return nullptr;
    }
    take();
    if (peek().kind != Tok::kRParen) {
      unexpected(peek(), "expected ')'");
      return nullptr;
    }
    take();
    // `ts` is always present on a record.
    if (name.raw == "ts") return literal(Value(true));
    NodePtr n = make(NodeKind::kExists);
    n->field = intern_field(name.raw);
    return n;
  }

  NodePtr parse_list() {
    size_t at = take().offset;
    DepthGuard guard(*this);
    if (too_deep(at)) return nullptr;
    NodePtr n = make(NodeKind::kList);
    if (peek().kind == Tok::kRBracket) {
      take();
      return n;
    }
    for (;;) {
      NodePtr item = parse_or();
      if (!item) return nullptr;
      n->height = static_cast<uint16_t>(
          std::max<int>(n->height, std::min(item->height + 1, kMaxDepth + 1)));
      n->items.push_back(std::move(item));
      if (peek().kind == Tok::kComma) {
        take();
        if (peek().kind == Tok::kRBracket) break;  // a trailing comma is accepted
        continue;
      }
      if (peek().kind == Tok::kRBracket) break;
      unexpected(peek(), "expected ',' or ']'");
      return nullptr;
    }
    take();
    if (n->height > kMaxDepth) {
      fail(at, "expression is nested too deeply");
      return nullptr;
    }
    return n;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  bool failed_ = false;
  ExpressionError error_;
};

// ---------------------------------------------------------------------------------------------
// Evaluator: a switch over node kinds. Operands are resolved to `const Value*` so comparing a
// field with a literal copies nothing; `scratch` holds computed operands.

Value eval(const ExprNode& n, const Record& r);
bool eval_bool(const ExprNode& n, const Record& r);

const Value* eval_ref(const ExprNode& n, const Record& r, Value& scratch) {
  switch (n.kind) {
    case NodeKind::kLiteral:
      return &n.literal;
    case NodeKind::kField: {
      const Value* v = r.find(n.field);
      return v != nullptr ? v : &kNullValue;
    }
    default:
      scratch = eval(n, r);
      return &scratch;
  }
}

// `==` with list literals: a list equals only a list of equal elements, as if lists were a kind.
bool nodes_equal(const ExprNode& a, const ExprNode& b, const Record& r) {
  bool a_list = a.kind == NodeKind::kList;
  bool b_list = b.kind == NodeKind::kList;
  if (a_list || b_list) {
    if (!a_list || !b_list || a.items.size() != b.items.size()) return false;
    for (size_t i = 0; i < a.items.size(); ++i) {
      if (!nodes_equal(*a.items[i], *b.items[i], r)) return false;
    }
    return true;
  }
  Value sa;
  Value sb;
  return values_equal(*eval_ref(a, r, sa), *eval_ref(b, r, sb));
}

bool eval_in(const ExprNode& lhs, const ExprNode& rhs, const Record& r) {
  if (rhs.kind == NodeKind::kList) {
    if (lhs.kind == NodeKind::kList) {
      for (const auto& item : rhs.items) {
        if (nodes_equal(lhs, *item, r)) return true;
      }
      return false;
    }
    Value sl;
    const Value& x = *eval_ref(lhs, r, sl);
    for (const auto& item : rhs.items) {
      if (item->kind == NodeKind::kList) continue;  // a list never equals a non-list
      Value si;
      if (values_equal(x, *eval_ref(*item, r, si))) return true;
    }
    return false;
  }
  if (lhs.kind == NodeKind::kList) return false;
  Value sl;
  Value sr;
  const Value& x = *eval_ref(lhs, r, sl);
  const Value& y = *eval_ref(rhs, r, sr);
  if (x.is_string() && y.is_string()) {
    return y.as_string().find(x.as_string()) != std::string::npos;
  }
  return false;
}

bool eval_match(const ExprNode& n, const Record& r) {
  Value scratch;
  const Value& x = *eval_ref(*n.lhs, r, scratch);
  return x.is_string() && n.regex->search(x.as_string());
}

bool eval_bool(const ExprNode& n, const Record& r) {
  switch (n.kind) {
    case NodeKind::kLiteral:
      return n.literal.is_true();
    case NodeKind::kField: {
      const Value* v = r.find(n.field);
      return v != nullptr && v->is_true();
    }
    case NodeKind::kExists:
      return r.find(n.field) != nullptr;
    case NodeKind::kNot:
      return !eval_bool(*n.lhs, r);
    case NodeKind::kAnd:
      return eval_bool(*n.lhs, r) && eval_bool(*n.rhs, r);
    case NodeKind::kOr:
      return eval_bool(*n.lhs, r) || eval_bool(*n.rhs, r);
    case NodeKind::kEq:
      return nodes_equal(*n.lhs, *n.rhs, r);
    case NodeKind::kNe:
      return !nodes_equal(*n.lhs, *n.rhs, r);
    case NodeKind::kLt:
    case NodeKind::kLe:
    case NodeKind::kGt:
    case NodeKind::kGe: {
      // A list literal is neither a number nor a string, so it evaluates to null here: false.
      Value sa;
      Value sb;
      return values_ordered(*eval_ref(*n.lhs, r, sa), *eval_ref(*n.rhs, r, sb), n.kind);
    }
    case NodeKind::kIn:
      return eval_in(*n.lhs, *n.rhs, r);
    case NodeKind::kNotIn:
      return !eval_in(*n.lhs, *n.rhs, r);
    case NodeKind::kMatch:
      return eval_match(n, r);
    case NodeKind::kTs:
    case NodeKind::kList:
    case NodeKind::kNeg:
    case NodeKind::kAdd:
    case NodeKind::kSub:
    case NodeKind::kMul:
    case NodeKind::kDiv:
      return eval(n, r).is_true();
  }
  return false;
}

Value eval(const ExprNode& n, const Record& r) {
  switch (n.kind) {
    case NodeKind::kLiteral:
      return n.literal;
    case NodeKind::kField: {
      const Value* v = r.find(n.field);
      return v != nullptr ? *v : Value();
    }
    case NodeKind::kTs:
      return Value(r.ts);
    case NodeKind::kList:
      return Value();  // Value has no list kind
    case NodeKind::kNeg: {
      Value scratch;
      return negate(*eval_ref(*n.lhs, r, scratch));
    }
    case NodeKind::kAdd:
    case NodeKind::kSub:
    case NodeKind::kMul:
    case NodeKind::kDiv: {
      Value sa;
      Value sb;
      return arithmetic(n.kind, *eval_ref(*n.lhs, r, sa), *eval_ref(*n.rhs, r, sb));
    }
    case NodeKind::kExists:
    case NodeKind::kNot:
    case NodeKind::kAnd:
    case NodeKind::kOr:
    case NodeKind::kEq:
    case NodeKind::kNe:
    case NodeKind::kLt:
    case NodeKind::kLe:
    case NodeKind::kGt:
    case NodeKind::kGe:
    case NodeKind::kIn:
    case NodeKind::kNotIn:
    case NodeKind::kMatch:
      return Value(eval_bool(n, r));
  }
  return Value();
}

}  // namespace

Expression Expression::parse(std::string_view text, ExpressionError* error) {
  Expression e;
  e.text_ = std::string(text);
  Parser parser(text);
  NodePtr root = parser.parse();
  if (!root) {
    if (error != nullptr) *error = parser.error();
    return e;
  }
  e.root_ = std::shared_ptr<const ExprNode>(std::move(root));
  return e;
}

Value Expression::evaluate(const Record& record) const {
  if (root_ == nullptr) return Value();
  return eval(*root_, record);
}

namespace {
void collect_fields_of(const ExprNode& n, std::vector<FieldId>& out) {
  if (n.kind == NodeKind::kField || n.kind == NodeKind::kExists) out.push_back(n.field);
  if (n.lhs) collect_fields_of(*n.lhs, out);
  if (n.rhs) collect_fields_of(*n.rhs, out);
  for (const auto& item : n.items) collect_fields_of(*item, out);
}
}  // namespace

void Expression::collect_fields(std::vector<FieldId>& out) const {
  if (root_ != nullptr) collect_fields_of(*root_, out);
}

}  // namespace licflow
