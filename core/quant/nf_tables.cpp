#include "core/quant/nf_tables.h"

#include "core/util/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace rilq {

double normal_quantile(double p) {
    if (!(p > 0.0 && p < 1.0))
        throw Error("normal_quantile: p must lie in (0, 1), found " + std::to_string(p));
    // Work in the lower half: 1 - p is exact for the p we use and erfc stays accurate in the tail.
    if (p > 0.5) return -normal_quantile(1.0 - p);
    // Acklam's rational approximation (relative error < 1.15e-9) ...
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                               1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    double x = 0.0;
    if (p < 0.02425) {
        const double q = std::sqrt(-2.0 * std::log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
    } else {
        const double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
    }
    // ... then Halley steps on Phi(x) - p bring it to double precision.
    const double sqrt2 = std::sqrt(2.0), sqrt2pi = std::sqrt(2.0 * M_PI);
    for (int i = 0; i < 2; ++i) {
        const double e = 0.5 * std::erfc(-x / sqrt2) - p;
        const double u = e * sqrt2pi * std::exp(x * x / 2.0);
        x = x - u / (1.0 + x * u / 2.0);
    }
    return x;
}

const std::vector<float>& nf4_bnb_table() {
    // bitsandbytes functional.get_4bit_type("nf4"), also the dDequantizeNF4 constants.
    static const std::vector<float> table = {
        -1.0f,
        -0.6961928009986877f,
        -0.5250730514526367f,
        -0.39491748809814453f,
        -0.28444138169288635f,
        -0.18477343022823334f,
        -0.09105003625154495f,
        0.0f,
        0.07958029955625534f,
        0.16093020141124725f,
        0.24611230194568634f,
        0.33791524171829224f,
        0.44070982933044434f,
        0.5626170039176941f,
        0.7229568362236023f,
        1.0f,
    };
    return table;
}

std::vector<float> nf_asymmetric_table(int bits) {
    if (bits < 2 || bits > 8)
        throw Error("nf_asymmetric_table: bits must be 2..8, found " + std::to_string(bits));
    const int64_t half = int64_t{1} << (bits - 1);
    // bitsandbytes: norm.ppf(torch.linspace(offset, 0.5, 9)[:-1]) - fp32 probabilities, fp64 ppf,
    // then torch.Tensor(v) (fp32) sorted and divided by its max in fp32.
    auto pos = torch::linspace(kNfOffset, 0.5, half + 1, torch::kFloat32);
    auto neg = torch::linspace(kNfOffset, 0.5, half, torch::kFloat32);
    std::vector<float> v;
    for (int64_t i = 0; i < half; ++i)
        v.push_back(static_cast<float>(normal_quantile(pos[i].item<float>())));
    for (int64_t i = 0; i + 1 < half; ++i)
        v.push_back(static_cast<float>(-normal_quantile(neg[i].item<float>())));
    v.push_back(0.0f);
    std::sort(v.begin(), v.end());
    const float vmax = v.back();
    for (auto& x : v)
        x = x / vmax;
    return v;
}

std::vector<float> nf_symmetric_table(int bits) {
    if (bits < 2 || bits > 8)
        throw Error("nf_symmetric_table: bits must be 2..8, found " + std::to_string(bits));
    const int64_t n = int64_t{1} << bits;
    const double lo = 1.0 - kNfOffset, step = (kNfOffset - lo) / static_cast<double>(n);
    std::vector<double> ppf(static_cast<size_t>(n + 1));
    for (int64_t i = 0; i <= n; ++i) {
        const double p = i == n ? kNfOffset : lo + static_cast<double>(i) * step;
        ppf[static_cast<size_t>(i)] = normal_quantile(p);
    }
    std::vector<double> q(static_cast<size_t>(n));
    double qmax = 0.0;
    for (size_t i = 0; i < q.size(); ++i) {
        q[i] = 0.5 * (ppf[i] + ppf[i + 1]);
        qmax = std::max(qmax, std::fabs(q[i]));
    }
    std::vector<float> table;
    for (double x : q)
        table.push_back(static_cast<float>(x / qmax));
    return table;
}

std::vector<float> nf_table(int bits, NfVariant variant) {
    if (variant == NfVariant::BnbAsymmetric) return bits == 4 ? nf4_bnb_table() : nf_asymmetric_table(bits);
    return nf_symmetric_table(bits);
}

std::vector<float> nf_thresholds(const std::vector<float>& table) {
    std::vector<float> t;
    for (size_t k = 0; k + 1 < table.size(); ++k) {
        // The fp64 midpoint of two fp32 levels usually sits exactly halfway between two fp32 values,
        // so how it is rounded matters. bitsandbytes printed the midpoints as Python floats
        // (shortest round-trip decimal) and pasted them as C float literals (decimal -> fp32 in one
        // rounding); doing the same reproduces its 15 NF4 constants bit for bit (tested).
        const double mid = (static_cast<double>(table[k]) + static_cast<double>(table[k + 1])) / 2.0;
        char buf[64];
        const auto res = std::to_chars(buf, buf + sizeof buf - 1, mid);
        *res.ptr = '\0';
        t.push_back(std::strtof(buf, nullptr));
    }
    return t;
}

double icq_sigma() {
    // utils.py: sigma = 1 / norm.ppf(torch.linspace(0.9677083, 0.5, 9)[:-1]).tolist()[0]
    const double p = static_cast<double>(static_cast<float>(kNfOffset));
    return 1.0 / normal_quantile(p);
}

const VariantTable<NfVariant>& nf_variants() {
    static const VariantTable<NfVariant> variants = {
        {NfVariant::BnbAsymmetric, {"bnb", "bitsandbytes' asymmetric table with an exact 0"}},
        {NfVariant::QloraSymmetric, {"sym", "the QLoRA paper's symmetric table (NF4: always bnb's)"}},
    };
    return variants;
}

} // namespace rilq
