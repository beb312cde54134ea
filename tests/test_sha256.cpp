// SHA-256 against the FIPS 180-2 / NIST example vectors and against the hashes that
// shared/data/PROVENANCE.md records (computed upstream by other tools).
#include <QtTest/QtTest>

#include "tests/support/test_main.h"

#include "core/util/error.h"
#include "core/util/sha256.h"
#include "tests/support/test_support.h"

class TestSha256 : public QObject {
    Q_OBJECT
  private Q_SLOTS:
    void nist_vectors();
    void padding_boundaries();
    void real_files_match_provenance();
    void missing_file_is_an_error();
};

void TestSha256::nist_vectors() {
    QCOMPARE(rilq::sha256_hex("abc"),
             std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    QCOMPARE(rilq::sha256_hex(""),
             std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    // 448-bit message: the padding no longer fits in the first block.
    QCOMPARE(rilq::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
             std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    // 896-bit message (FIPS 180-4 examples, two full blocks plus padding).
    QCOMPARE(rilq::sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmno"
                              "pqklmnopqrlmnopqrsmnopqrstnopqrstu"),
             std::string("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"));
    QCOMPARE(rilq::sha256_hex(std::string(1000000, 'a')),
             std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

// Lengths 55/56/63/64 bytes straddle the one-block / two-block padding cases; values from
// Python's hashlib.sha256(b"a" * n).hexdigest().
void TestSha256::padding_boundaries() {
    QCOMPARE(rilq::sha256_hex(std::string(55, 'a')),
             std::string("9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"));
    QCOMPARE(rilq::sha256_hex(std::string(56, 'a')),
             std::string("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"));
    QCOMPARE(rilq::sha256_hex(std::string(63, 'a')),
             std::string("7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"));
    QCOMPARE(rilq::sha256_hex(std::string(64, 'a')),
             std::string("ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
}

// The file hash streams in 1 MiB chunks: wiki.test.raw (1,290,547 bytes) crosses a chunk
// boundary, tok512.model is smaller than one chunk.
void TestSha256::real_files_match_provenance() {
    QCOMPARE(rilq::sha256_file(rilq::test::shared_data("wikitext-2-raw/wiki.test.raw")),
             std::string("4f3e427e4aff23acff917a8a51aeae21bf12832256e26914c8fc250dcef4103c"));
    QCOMPARE(rilq::sha256_file(rilq::test::shared_data("stories260K/tok512.model")),
             std::string("fec6aa960a1fb3ebf71d26f9b0e486afcbd76c34cf0fbfb93e21126ca9f778d3"));
    QCOMPARE(rilq::sha256_file(rilq::test::shared_data("c4/c4_demo.jsonl")),
             std::string("f51528081ef22279f2840c02c4cd7cdfc372138be0817c5b8714d200af692b78"));
    // The file and the in-memory hash of the same bytes agree.
    const std::string path = rilq::test::shared_data("stories260K/tok512.bin");
    QCOMPARE(rilq::sha256_file(path), rilq::sha256_hex(rilq::test::read_file(path)));
}

void TestSha256::missing_file_is_an_error() {
    const std::string missing = rilq::test::make_temp_dir("sha256") + "/absent.bin";
    try {
        rilq::sha256_file(missing);
        QFAIL("expected rilq::Error");
    } catch (const rilq::Error& e) {
        QVERIFY2(std::string(e.what()).find(missing) != std::string::npos, e.what());
    }
}

RILQ_TEST_APPLESS_MAIN(TestSha256)
#include "test_sha256.moc"
