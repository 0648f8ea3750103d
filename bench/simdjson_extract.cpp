// simdjson_extract: the near-limit reference of the ingest benchmark.
//
//   simdjson_extract [--ts] [--whole] [--chunk BYTES] [--batch BYTES] FILE
//
// Reads a JSON-lines prediction log with simdjson's On-Demand document
// stream (parser.iterate_many) and extracts from every line what driftd's
// bench configuration monitors: prediction (string), confidence and
// latency_ms (doubles) and every member of "features" (its name, and its
// value: numbers as double, strings as string_view).  The values are summed and counted, and the
// totals printed at the end, so that the compiler cannot drop the work.
//
// By default the file is read in chunks (4 MiB), and each chunk's complete
// lines go through one iterate_many call, with the incomplete tail carried
// over to the next chunk.  That is the shape of driftd's own ingest (bounded
// memory, only newline-terminated lines are consumed, read() included in
// the cost), so the two are compared like for like.  --whole loads the file
// into one padded_string first, the way simdjson's own examples do: its
// peak RSS is the file size, and faulting that memory in costs more time
// than the chunking saves.
//
// Build: g++ -O2 -std=c++17 -march=native simdjson_extract.cpp -lsimdjson
//
// Why -march=native: stage 1 (finding the structure of a batch) runs inside
// libsimdjson, which picks the best kernel for the CPU at run time, but the
// On-Demand part (walking the document, parsing numbers and strings) is
// compiled inline into this program, for the target the compiler is told
// about; on plain x86-64 that is the scalar "fallback" kernel.  The kernel
// compiled in is printed at the end.  Built without -pthread, so that the
// document stream stays on one thread (with -pthread the header defines
// SIMDJSON_THREADS_ENABLED and runs stage 1 of the next batch on a second
// thread): driftd has one ingest thread, and the machine two cores.

#include <simdjson.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace od = simdjson::ondemand;

namespace {

struct Totals {
	size_t docs = 0, errors = 0, numbers = 0, strings = 0;
	size_t key_bytes = 0;    // lengths of the feature names
	double sum = 0;          // confidence + latency + numeric features
	size_t string_bytes = 0; // lengths of categorical values
	// Predictions per class.  A handful of classes: a linear scan is the
	// fastest map there is.
	std::vector<std::pair<std::string, size_t>> classes;

	void count_class(std::string_view c)
	{
		for (auto &kv : classes)
			if (kv.first == c) {
				kv.second++;
				return;
			}
		classes.emplace_back(std::string(c), 1);
	}
};

// Extract the fields of one document.  One pass over its members in file
// order, comparing raw (still escaped) keys: members that are not wanted
// (ts, request_id, model, probabilities) are skipped without being parsed.
// --ts: the event time too, as driftd reads it with [model] timestamp.
bool read_ts = false;

simdjson::error_code extract(od::document_reference doc, Totals &t)
{
	od::object obj;
	auto err = doc.get_object().get(obj);
	if (err)
		return err;
	for (auto member : obj) {
		od::raw_json_string key;
		if ((err = member.key().get(key)))
			return err;
		od::value v;
		if ((err = member.value().get(v)))
			return err;
		if (key == "features") {
			od::object feats;
			if ((err = v.get_object().get(feats)))
				return err;
			for (auto f : feats) {
				// The name says which column a value
				// belongs to: a real ingest has to read it.
				std::string_view name;
				if ((err = f.unescaped_key().get(name)))
					return err;
				t.key_bytes += name.size();
				od::value fv;
				if ((err = f.value().get(fv)))
					return err;
				od::json_type type;
				if ((err = fv.type().get(type)))
					return err;
				if (type == od::json_type::number) {
					double d;
					if ((err = fv.get_double().get(d)))
						return err;
					t.sum += d;
					t.numbers++;
				} else if (type == od::json_type::string) {
					std::string_view s;
					if ((err = fv.get_string().get(s)))
						return err;
					t.string_bytes += s.size();
					t.strings++;
				}
			}
		} else if (read_ts && key == "ts") {
			std::string_view s;
			if ((err = v.get_string().get(s)))
				return err;
			t.string_bytes += s.size();
			t.strings++;
		} else if (key == "prediction") {
			std::string_view s;
			if ((err = v.get_string().get(s)))
				return err;
			t.count_class(s);
		} else if (key == "confidence" || key == "latency_ms") {
			double d;
			if ((err = v.get_double().get(d)))
				return err;
			t.sum += d;
			t.numbers++;
		}
	}
	return simdjson::SUCCESS;
}

// Run every document of buf[0, len) through extract().  buf must have
// SIMDJSON_PADDING readable bytes after len.
void run_stream(od::parser &parser, const char *buf, size_t len,
		size_t batch, Totals &t)
{
	od::document_stream stream;
	if (parser.iterate_many(buf, len, batch).get(stream)) {
		t.errors++;
		return;
	}
	for (auto doc : stream) {
		t.docs++;
		if (doc.error() || extract(doc.value_unsafe(), t))
			t.errors++;
	}
}

int whole(const char *path, size_t batch, Totals &t)
{
	simdjson::padded_string json;
	if (simdjson::padded_string::load(path).get(json)) {
		std::fprintf(stderr, "simdjson_extract: cannot read %s\n", path);
		return 1;
	}
	od::parser parser;
	run_stream(parser, json.data(), json.size(), batch, t);
	return 0;
}

int chunked(const char *path, size_t chunk, size_t batch, Totals &t)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		std::fprintf(stderr, "simdjson_extract: %s: %s\n", path,
			     std::strerror(errno));
		return 1;
	}
	std::vector<char> buf(chunk + simdjson::SIMDJSON_PADDING);
	od::parser parser;
	size_t have = 0; // bytes in buf: an incomplete line carried over first
	for (;;) {
		ssize_t n = read(fd, buf.data() + have, chunk - have);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			std::fprintf(stderr, "simdjson_extract: %s: %s\n",
				     path, std::strerror(errno));
			close(fd);
			return 1;
		}
		if (n == 0)
			break; // a last line without a newline is not consumed
		have += size_t(n);
		// Complete lines end at the last newline in the buffer.
		const char *nl = static_cast<const char *>(
			memrchr(buf.data(), '\n', have));
		if (!nl) {
			if (have == chunk) { // one line longer than a chunk
				std::fprintf(stderr,
					     "simdjson_extract: line > %zu "
					     "bytes\n", chunk);
				close(fd);
				return 1;
			}
			continue;
		}
		size_t complete = size_t(nl - buf.data()) + 1;
		run_stream(parser, buf.data(), complete, batch, t);
		std::memmove(buf.data(), buf.data() + complete,
			     have - complete);
		have -= complete;
	}
	close(fd);
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	bool use_whole = false;
	size_t chunk = 4 << 20, batch = od::DEFAULT_BATCH_SIZE;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!std::strcmp(argv[i], "--ts"))
			read_ts = true;
		else if (!std::strcmp(argv[i], "--whole"))
			use_whole = true;
		else if (!std::strcmp(argv[i], "--chunk") && i + 1 < argc)
			chunk = std::strtoul(argv[++i], nullptr, 10);
		else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc)
			batch = std::strtoul(argv[++i], nullptr, 10);
		else
			break;
	}
	if (i != argc - 1 || chunk < 4096 || batch < 4096) {
		std::fprintf(stderr, "usage: %s [--ts] [--whole] [--chunk BYTES] "
			     "[--batch BYTES] FILE\n", argv[0]);
		return 2;
	}
	// iterate_many needs each document inside one batch; a batch larger
	// than the chunk is pointless.
	if (!use_whole && batch > chunk)
		batch = chunk;

	Totals t;
	int rc = use_whole ? whole(argv[i], batch, t)
			   : chunked(argv[i], chunk, batch, t);
	if (rc)
		return rc;

	std::printf("lines %zu errors %zu numbers %zu strings %zu "
		    "string_bytes %zu key_bytes %zu sum %.17g",
		    t.docs, t.errors, t.numbers, t.strings, t.string_bytes,
		    t.key_bytes, t.sum);
	for (auto &kv : t.classes)
		std::printf(" %s=%zu", kv.first.c_str(), kv.second);
	std::printf(" kernel=%s\n", SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
	return t.errors ? 1 : 0;
}
