// ExperimentForm: the form edits the experiment JSON itself; fields with validation issues turn
// red with core's message; load / save round-trips the document, unknown keys included.
#include "widgets/experiment_form.h"
#include "widget_test_support.h"

#include "core/quant/quant_registry.h"
#include "core/run/config_schema.h"
#include "core/run/experiment_config.h"

#include <nlohmann/json.hpp>

#include <QApplication>
#include <QComboBox>
#include <QLineEdit>
#include <QTemporaryDir>
#include <QWheelEvent>
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

using nlohmann::json;
using rilq::widgets::ExperimentForm;

namespace {
json sample() {
    return json::parse(R"({
      "format_version": 1, "name": "form-test", "data_root": "/tmp",
      "datasets": {"calib": {"type": "text", "path": "a.txt"}, "evalset": {"type": "text", "path": "b.txt"}},
      "rilq": {"base_model": "m.bin", "lora_r": [0, 16], "calib_dataset": "calib", "approx_lr": 0.001},
      "quant": {"method": "rtn", "bits": 2, "group_size": 64},
      "eval": {"datasets": ["evalset"], "seqlen": 256},
      "description": "kept as is"})");
}
} // namespace

class TestExperimentForm : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void fillProgrammatically() {
        ExperimentForm form;
        form.setDocument(sample());
        QVERIFY2(form.isValid(),
                 qPrintable(form.issues().isEmpty() ? QString() : form.issues().front().message));
        QCOMPARE(form.loraRanks(), (QVector<int>{0, 16}));
        form.setLoraRanks({0, 2, 4});
        qobject_cast<QComboBox*>(form.fieldWidget("quant.bits"))->setCurrentText("3");
        auto* lr = qobject_cast<QLineEdit*>(form.fieldWidget("rilq.approx_lr"));
        QVERIFY(lr);
        lr->clear();
        QTest::keyClicks(lr, "5e-4");
        const json& d = form.document();
        QCOMPARE(d["rilq"]["lora_r"], json::parse("[0,2,4]"));
        QCOMPARE(d["quant"]["bits"].get<int>(), 3);
        QCOMPARE(d["rilq"]["approx_lr"].get<double>(), 5e-4);
        QCOMPARE(d["description"].get<std::string>(), std::string("kept as is"));
        QVERIFY(form.isValid());
        rilq::test::show_offscreen(&form, QSize(1100, 800));
        QVERIFY(rilq::test::save_screenshot(&form, "experiment_form"));
    }

    // The demo's model does not exist until the demo first runs: the form says so, without an
    // error, and inspects the model once it is there.
    void demoModelNotBuiltYetIsNoError() {
        QTemporaryDir cache;
        qputenv("RILQ_DEMO_CACHE", cache.path().toUtf8());
        ExperimentForm form;
        QStringList inspected, errors;
        form.setModelInspector([&](const QString& path) {
            inspected << path;
            return rilq::widgets::ModelInfo{false, path + ": no such file or folder", {}, {}, 0};
        });
        connect(&form, &ExperimentForm::errorOccurred, [&](const QString& m) { errors << m; });
        json doc = sample();
        doc["data_root"] = rilq::run::kDemoDataRoot;
        form.setDocument(doc);
        QVERIFY2(form.modelSummaryText().contains("trained when the demo first runs"),
                 qPrintable(form.modelSummaryText()));
        QVERIFY(form.modelSummaryText().contains(QDir::toNativeSeparators(cache.path())));
        QVERIFY(inspected.isEmpty());
        QVERIFY(errors.isEmpty());
        QFile model(cache.path() + "/m.bin"); // once built, it is inspected like any model
        QVERIFY(model.open(QIODevice::WriteOnly));
        model.close();
        form.setDocument(doc);
        QCOMPARE(inspected, QStringList{QDir::cleanPath(cache.path() + "/m.bin")});
        QCOMPARE(errors.size(), 1);
        qunsetenv("RILQ_DEMO_CACHE");
    }

    void validationMarksTheField() {
        ExperimentForm form;
        form.setDocument(sample());
        auto* lr = qobject_cast<QLineEdit*>(form.fieldWidget("rilq.approx_lr"));
        lr->clear();
        QTest::keyClicks(lr, "fast");
        QVERIFY(!form.isValid());
        QVERIFY(form.fieldError("rilq.approx_lr").contains("$.rilq.approx_lr"));
        QVERIFY(lr->property("rilqInvalid").toBool());
        QCOMPARE(lr->toolTip(), form.fieldError("rilq.approx_lr"));
        lr->clear();
        QTest::keyClicks(lr, "1e-3");
        QVERIFY(form.isValid());
        QVERIFY(!lr->property("rilqInvalid").toBool());

        json bad = sample();
        bad["rilq"]["lora_r"] = json::parse("[0, -4]");
        form.setDocument(bad);
        QVERIFY(form.fieldError("rilq.lora_r").contains("$.rilq.lora_r[1]"));
        QVERIFY(form.fieldWidget("rilq.lora_r")->property("rilqInvalid").toBool());
        QVERIFY(form.fieldError("quant.bits").isEmpty());
    }

    void sweptScalarIsReadOnly() {
        json doc = sample();
        doc["rilq"]["approx_lr"] = json::parse("[0.001, 0.0001]");
        ExperimentForm form;
        form.setDocument(doc);
        QVERIFY(!form.fieldWidget("rilq.approx_lr")->isEnabled());
        QCOMPARE(form.document()["rilq"]["approx_lr"], json::parse("[0.001, 0.0001]"));
    }

    // Every field of the schema has a row (format_version is the program's, not an edit).
    void everySchemaFieldHasAnEditor() {
        ExperimentForm form;
        QStringList expected;
        for (const auto& section : rilq::run::run_sections())
            for (const auto& f : section.fields)
                if (f.key != "format_version")
                    expected << QString::fromStdString(section.key.empty() ? f.key
                                                                           : section.key + "." + f.key);
        QCOMPARE(form.fieldKeys(), expected);
        for (const QString& key : expected)
            QVERIFY2(form.fieldWidget(key), qPrintable(key));
    }

    // Walks every method the form offers, every variant it then offers and every bit width, as a
    // user would pick them, and checks core accepts each resulting experiment ("none" needs a ready
    // q_model, which the other methods must not have).
    void everyMethodVariantAndBitsValidates() {
        ExperimentForm form;
        form.setDocument(sample());
        auto* method = qobject_cast<QComboBox*>(form.fieldWidget("quant.method"));
        auto* variant = qobject_cast<QComboBox*>(form.fieldWidget("quant.variant"));
        auto* bits = qobject_cast<QComboBox*>(form.fieldWidget("quant.bits"));
        auto* q_model = form.fieldWidget("rilq.q_model")->findChild<QLineEdit*>();
        QVERIFY(method && variant && bits && q_model);
        QStringList methods;
        for (int i = 0; i < method->count(); ++i)
            methods << method->itemText(i);
        QStringList registered = {"none"};
        for (const auto& name : rilq::quant_method_names())
            registered << QString::fromStdString(name);
        QCOMPARE(methods, registered);
        int combinations = 0;
        for (int m = 0; m < method->count(); ++m) {
            method->setCurrentIndex(m);
            const bool none = method->currentText() == QLatin1String("none");
            q_model->clear();
            if (none) QTest::keyClicks(q_model, "ready-q");
            if (none) {
                QCOMPARE(variant->count(), 0);
                QVERIFY2(form.isValid(),
                         qPrintable(form.issues().isEmpty() ? QString() : form.issues().front().message));
                ++combinations;
                q_model->clear();
                Q_EMIT q_model->textEdited(QString()); // as if the user emptied it
                continue;
            }
            const auto& registered_method = rilq::quant_method(method->currentText().toStdString());
            QCOMPARE(variant->currentText(), QString::fromStdString(registered_method.variants.front().name));
            QCOMPARE(variant->count(), int(registered_method.variants.size()));
            QCOMPARE(bits->count(), int(registered_method.bits.size()));
            for (int v = 0; v < variant->count(); ++v) {
                variant->setCurrentIndex(v);
                for (int b = 0; b < bits->count(); ++b) {
                    bits->setCurrentIndex(b);
                    const json& d = form.document();
                    QCOMPARE(QString::fromStdString(d["quant"]["method"].get<std::string>()),
                             method->currentText());
                    QCOMPARE(QString::fromStdString(d["quant"]["variant"].get<std::string>()),
                             variant->currentText());
                    QCOMPARE(QString::number(d["quant"]["bits"].get<int>()), bits->currentText());
                    const QString what =
                        method->currentText() + " " + variant->currentText() + " " + bits->currentText();
                    QVERIFY2(
                        form.isValid(),
                        qPrintable(what + ": " +
                                   (form.issues().isEmpty() ? QString() : form.issues().front().message)));
                    QVERIFY2(rilq::run::validate_experiment(d, {"/tmp", "", {}}).empty(), qPrintable(what));
                    ++combinations;
                }
            }
        }
        int expected = 1; // none
        for (const auto& m : rilq::quant_methods())
            expected += int(m.variants.size() * m.bits.size());
        QCOMPARE(combinations, expected);
    }

    // A method change resets the variant to that method's default and the bits to one it accepts;
    // only the knobs the method reads are shown.
    void changingTheMethodResetsTheVariant() {
        ExperimentForm form;
        json doc = sample();
        doc["quant"] = {{"method", "rtn"}, {"bits", 8}, {"group_size", 64}, {"variant", "gptq-sym"}};
        form.setDocument(doc);
        QVERIFY(form.isValid());
        auto* method = qobject_cast<QComboBox*>(form.fieldWidget("quant.method"));
        const auto& methods = rilq::quant_methods();
        const auto narrow = std::find_if(methods.begin(), methods.end(),
                                         [](const rilq::QuantMethod& m) { return !m.accepts_bits(8); });
        QVERIFY(narrow != methods.end());
        const rilq::QuantMethod& nf = *narrow;
        method->setCurrentText(QString::fromStdString(nf.name));
        QCOMPARE(form.document()["quant"]["variant"].get<std::string>(), nf.variants.front().name);
        QVERIFY(nf.accepts_bits(form.document()["quant"]["bits"].get<int>()));
        QVERIFY(form.isValid());
        for (const auto& field : rilq::quant_spec_fields()) {
            const QString key = QString::fromStdString("quant." + field.key);
            QCOMPARE(form.fieldWidget(key)->isVisibleTo(&form),
                     !rilq::is_method_knob(field.key) || nf.reads(field.key));
        }
        method->setCurrentText(QStringLiteral("none"));
        QVERIFY(!form.document()["quant"].contains("variant"));
    }

    // Scrolling the form over an unfocused combo box leaves its value alone; the same wheel turn
    // does change a plain combo box (so the event below is one that would edit).
    void wheelOverAnUnfocusedFieldScrollsInsteadOfEditing() {
        const auto wheel_down = [](QWidget* target) {
            QWheelEvent event(QPointF(5, 5), target->mapToGlobal(QPointF(5, 5)), QPoint(), QPoint(0, -120),
                              Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
            QApplication::sendEvent(target, &event);
        };
        QComboBox plain;
        plain.addItems({"gaussian", "kaiming"});
        wheel_down(&plain);
        QCOMPARE(plain.currentIndex(), 1);

        ExperimentForm form;
        form.setDocument(sample());
        const json before = form.document();
        auto* init = qobject_cast<QComboBox*>(form.fieldWidget("rilq.lora_init"));
        QVERIFY(init);
        QVERIFY(!init->hasFocus());
        const QString shown = init->currentText();
        wheel_down(init);
        QCOMPARE(init->currentText(), shown);
        QCOMPARE(form.document(), before);
    }

    // Saving keeps the file's layout: its key order (not json's sorted one), so editing one field of
    // a hand-written experiment changes that line only.
    void saveKeepsTheFilesKeyOrder() {
        QTemporaryDir dir;
        const QString path = dir.filePath("ordered.json");
        const QByteArray original =
            "{\n  \"name\": \"ordered\",\n  \"format_version\": 1,\n"
            "  \"rilq\": {\n    \"lora_r\": 8,\n    \"approx_lr\": 0.001,\n"
            "    \"base_model\": \"m.bin\"\n  },\n  \"description\": \"z before a\"\n}\n";
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(original);
        file.close();
        ExperimentForm form;
        QString error;
        QVERIFY2(form.loadFile(path, &error), qPrintable(error));
        form.setLoraRanks({16});
        QVERIFY2(form.saveFile(path, &error), qPrintable(error));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QByteArray expected = original;
        expected.replace("\"lora_r\": 8", "\"lora_r\": 16");
        QCOMPARE(file.readAll(), expected);
    }

    void saveLoadRoundTrip() {
        QTemporaryDir dir;
        ExperimentForm form;
        form.setDocument(sample());
        form.setLoraRanks({0, 8});
        const QString path = dir.filePath("e.json");
        QString error;
        QVERIFY2(form.saveFile(path, &error), qPrintable(error));
        ExperimentForm again;
        QVERIFY2(again.loadFile(path, &error), qPrintable(error));
        QCOMPARE(again.document(), form.document());
        QCOMPARE(again.loraRanks(), (QVector<int>{0, 8}));
        QFile broken(dir.filePath("broken.json"));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("{ nope");
        broken.close();
        QVERIFY(!again.loadFile(broken.fileName(), &error));
        QVERIFY(error.contains("broken.json"));
    }
};

RILQ_TEST_MAIN(TestExperimentForm)
#include "test_experiment_form.moc"
