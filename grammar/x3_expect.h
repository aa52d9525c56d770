#pragma once
// An X3 expectation point with a readable name, shared by the grammars. If the subject fails,
// parsing stops with x3::expectation_failure whose which() is `name` ("')'", "a value"),
// where X3's own `>` would report the subject's mangled C++ type name
// (N5boost6spirit2x3...). Include only from a grammar's own translation unit.

#include <boost/spirit/home/x3.hpp>

namespace preflight::x3_expect {

namespace x3 = boost::spirit::x3;

template <typename Subject>
struct Expect : x3::unary_parser<Subject, Expect<Subject>> {
  using base_type = x3::unary_parser<Subject, Expect<Subject>>;
  static bool const is_pass_through_unary = true;
  Expect(Subject const& subject, char const* name) : base_type(subject), name(name) {}

  template <typename It, typename Ctx, typename RCtx, typename Attr>
  bool parse(It& first, It const& last, Ctx const& ctx, RCtx& rctx, Attr& attr) const {
    if (this->subject.parse(first, last, ctx, rctx, attr)) return true;
    boost::throw_exception(x3::expectation_failure<It>(first, name));
  }
  char const* name;
};

template <typename P>
auto expect(char const* name, P const& p) {
  return Expect<typename x3::extension::as_parser<P>::value_type>(x3::as_parser(p), name);
}

}  // namespace preflight::x3_expect
