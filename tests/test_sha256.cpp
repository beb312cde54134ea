// SHA-256 against the FIPS 180-2 / NIST CAVS example vectors and a real file whose digest is
// published independently (PROVENANCE.md gives the Hugging Face sha256 of stories260K.bin).
#include "tests/support/test_support.h"

#include "core/util/error.h"
#include "core/util/sha256.h"

#include <QtTest/QtTest>

#include <string>

class TestSha256 : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void standard_vectors_data() {
        QTest::addColumn<QByteArray>("message");
        QTest::addColumn<QString>("digest");
        QTest::newRow("empty") << QByteArray()
                               << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        QTest::newRow("abc") << QByteArray("abc")
                             << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        QTest::newRow("448 bits") << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                                  << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
        QTest::newRow("896 bits")
            << QByteArray(
                   "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr"
                   "lmnopqrsmnopqrstnopqrstu")
            << "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
        QTest::newRow("million a") << QByteArray(1000000, 'a')
                                   << "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    }
    void standard_vectors() {
        QFETCH(QByteArray, message);
        QFETCH(QString, digest);
        const std::string bytes(message.constData(), static_cast<size_t>(message.size()));
        QCOMPARE(QString::fromStdString(rilq::sha256_hex(bytes)), digest);
    }

    // Lengths around the padding boundary (55, 56, 63, 64 bytes) take different padding paths;
    // the file path streams in 1 MiB reads, so both must agree for every length.
    void file_matches_string_across_padding_boundaries() {
        const std::string dir = rilq::test::make_temp_dir("sha256");
        for (size_t n : {0u, 1u, 55u, 56u, 57u, 63u, 64u, 65u, 119u, 120u, 128u}) {
            std::string bytes(n, '\0');
            for (size_t i = 0; i < n; ++i)
                bytes[i] = static_cast<char>((i * 131 + 7) & 0xff);
            const std::string path = dir + "/f" + std::to_string(n);
            rilq::test::write_file(path, bytes);
            QCOMPARE(rilq::sha256_file(path), rilq::sha256_hex(bytes));
        }
        // 56 zero bytes: the message length forces a second padding block.
        QCOMPARE(QString::fromStdString(rilq::sha256_hex(std::string(56, 'a'))),
                 QStringLiteral("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"));
    }

    void real_file_matches_published_digest() {
        const std::string path = rilq::test::shared_data("stories260K/stories260K.bin");
        QCOMPARE(QString::fromStdString(rilq::sha256_file(path)),
                 QStringLiteral("b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696"));
    }

    void missing_file_names_the_path() {
        try {
            rilq::sha256_file("/nonexistent/dir/model.bin");
            QFAIL("expected rilq::Error");
        } catch (const rilq::Error& e) {
            QVERIFY(std::string(e.what()).find("/nonexistent/dir/model.bin") != std::string::npos);
        }
    }
};

QTEST_APPLESS_MAIN(TestSha256)
#include "test_sha256.moc"
