#include "core/rilq/model_loss.h"

#include "core/util/error.h"

#include <torch/torch.h>

namespace rilq {

torch::Tensor model_discrepancy_mse(const torch::Tensor& student, const torch::Tensor& teacher) {
    if (student.sizes() != teacher.sizes())
        throw Error("model-level loss: student output " + std::string(c10::str(student.sizes())) +
                    " and teacher target " + std::string(c10::str(teacher.sizes())) + " differ in shape");
    return torch::mse_loss(student.to(torch::kFloat32), teacher.to(student.device(), torch::kFloat32));
}

} // namespace rilq
