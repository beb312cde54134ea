#include "app/gui/model_inspector.h"

#include "core/io/model_loader.h" // summarize_model (pulls torch: kept out of every header)

#include <exception>

namespace rilq::gui {

widgets::ModelInfo inspect_model(const QString& path) {
    widgets::ModelInfo info;
    try {
        const ModelSummary s = summarize_model(path.toStdString());
        const LlamaConfig& c = s.config;
        info.ok = true;
        info.format = QString::fromStdString(s.format);
        info.parameter_count = s.parameter_count;
        info.summary =
            QStringLiteral("dim %1 · %2 layers · %3 heads (%4 kv) · ffn %5 · vocab %6 · ctx %7 · %8")
                .arg(c.hidden_size)
                .arg(c.num_hidden_layers)
                .arg(c.num_attention_heads)
                .arg(c.num_key_value_heads)
                .arg(c.intermediate_size)
                .arg(c.vocab_size)
                .arg(c.max_position_embeddings)
                .arg(QString::fromStdString(c.torch_dtype));
    } catch (const std::exception& e) {
        info.error = QString::fromUtf8(e.what());
    }
    return info;
}

} // namespace rilq::gui
