// ExperimentForm: the form edits the experiment JSON itself; fields with validation issues turn
// red with core's message; load / save round-trips the document, unknown keys included.
#include "widgets/experiment_form.h"
#include "widget_test_support.h"

#include <nlohmann/json.hpp>

#include <QLineEdit>
#include <QSpinBox>
#include <QTemporaryDir>
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
        qobject_cast<QSpinBox*>(form.fieldWidget("quant.bits"))->setValue(3);
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
