// Small helpers shared by the test suites: where the real data lives, temp folders,
// tensor comparison with a readable failure message.
#pragma once
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace rilq::test {

// ../shared/data beside the checkout (overridable with RILQ_SHARED_DATA): real models and text.
std::string shared_data(const std::string& relative = "");
// tests/data in the source tree: small fixtures of our own (reference outputs, corrupt files).
std::string test_data(const std::string& relative = "");
// A fresh, empty folder under the system temp dir, unique per call.
std::string make_temp_dir(const std::string& tag);
// Reads a whole file as bytes.
std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);
// max |a - b| as a double (both converted to fp32 on CPU).
double max_abs_diff(const at::Tensor& a, const at::Tensor& b);
// The elements of `t` in row-major order, as fp32.
std::vector<float> float_values(const at::Tensor& t);

} // namespace rilq::test
