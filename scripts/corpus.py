#!/usr/bin/env python3
"""Writes a benchmark corpus: N digest posts shaped like the example post
(3-10 `# N. [Title](URL)` papers each, Korean and English prose, tables,
code, images, every date and category form of SPEC §1) and a subscriber
list of M entries.

    scripts/corpus.py --posts 10000 --out target/bench/p10000/_posts
    scripts/corpus.py --subscribers 10000 --out target/bench/s10000.csv
    scripts/corpus.py --big-post table --bytes 1048576 --out site/_posts
    scripts/corpus.py --mail-post 10 --out site/_posts

--big-post writes one post (2025-12-24-big.md) whose body is BYTES of one
shape, for measuring what a huge or hostile post costs: plain paragraphs,
a table, links and inline formatting, one-letter emphasis, a table of
one-letter cells, or of empty cells (the last three: the most HTML
elements per byte).

--mail-post writes one digest of that many papers, in the corpus's shape,
dated 2025-12-25 (after the example posts): the post the mail benchmark
sends: with 10 papers one message of it is 81 KB, a long day's digest
(the speed targets speak of 76 KB messages; 9 papers make 74 KB).

The output depends only on the arguments (a fixed seed), so every run of
scripts/bench measures the same bytes."""

import argparse
import datetime
import pathlib
import random

KOREAN = [
    "본 연구는 텍스트, 시각, 시간 간격 프롬프트를 통합하여 다양한 오디오 신호 분리 문제를 다룬다.",
    "기존 모델들은 특정 도메인이나 고정된 카테고리에 한정되거나 제어 가능성이 제한적이었다.",
    "대형 언어 모델을 활용한 선제적 예측 프레임워크를 제안하였다.",
    "실험 결과 기존 벤치마크보다 성능이 뛰어났으며 외부 데이터셋에서도 높은 예측력을 보였다.",
    "데이터셋 크기가 제한적이며 일반적인 특성을 완전히 대표하지 못할 가능성이 존재한다.",
    "확산 과정에서 중첩 윈도우 기반 멀티 디퓨전으로 긴 입력도 경계 없이 처리한다.",
]
ENGLISH = [
    "We propose a unified model that separates sources from text, visual and span prompts.",
    "Prior work is limited to fixed categories and offers little control over the output.",
    "The method reaches state-of-the-art results on four public benchmarks.",
    "Ablations show that the span prompt accounts for most of the gain on long inputs.",
    "The dataset is small and may not represent every community's conversations.",
    "Code and checkpoints are released under a permissive licence.",
]
TAGS = ["papers", "huggingface", "audio", "vision", "nlp", "robotics", "llm", "diffusion", "graphs", "rl"]
CATEGORIES = ["research", "ml", "daily", "Weekly Notes", "AI/ML"]


def date_line(rng: random.Random, day: datetime.date, index: int) -> str:
    """Every date form SPEC §1 accepts, in turn (and none: the file name's date)."""
    hour, minute, second = rng.randrange(24), rng.randrange(60), rng.randrange(60)
    forms = [
        f"date: {day} {hour:02}:{minute:02}:{second:02}",
        f"date: {day} {hour:02}:{minute:02}:{second:02} +0900",
        f"date: {day}",
        f"date: {day} {hour:02}:{minute:02}",
        f"date: {day}T{hour:02}:{minute:02}:{second:02}+09:00",
        f"date: {day}T{hour:02}:{minute:02}:{second:02}Z",
        f"date: {day} {hour:02}:{minute:02}:{second:02} +09:00",
        "",
    ]
    return forms[index % len(forms)]


def categories_line(rng: random.Random, index: int) -> str:
    """A list, a space-separated string, an empty list, or none."""
    picked = rng.sample(CATEGORIES[:3], rng.randint(1, 2))
    forms = [
        f"categories: [{', '.join(picked)}]",
        f"categories: {' '.join(picked)}",
        "categories: []",
        "",
    ]
    return forms[index % len(forms)]


def paper(rng: random.Random, number: int, post_index: int) -> str:
    arxiv = f"{2000 + post_index % 600:04}.{(post_index * 11 + number) % 100000:05}"
    title = rng.choice(["SAM Audio", "Toxicity Ahead", "Learning to Refocus", "Sparse Mixtures", "Graph Priors"])
    lines = [
        f"# {number}. [{title}: Paper {post_index}-{number}](https://arxiv.org/abs/{arxiv})",
        "",
        f"> [Alphaxiv](https://www.alphaxiv.org/ko/overview/{arxiv})",
        "",
        "## Introduction",
        f"- Goal: {rng.choice(KOREAN)} {rng.choice(ENGLISH)}  ",
        f"- Motivation: {rng.choice(KOREAN)}  ",
        f"- Contribution: {rng.choice(ENGLISH)}  ",
        "",
        "## Method",
        " ".join(rng.choice(KOREAN + ENGLISH) for _ in range(rng.randint(3, 6))),
        "",
    ]
    extra = (post_index + number) % 4
    if extra == 0:
        lines += ["| Model | F1 | Params |", "|---|---:|---:|",
                  f"| Qwen | 0.{rng.randint(700, 999)} | 7B |", f"| Llama | 0.{rng.randint(700, 999)} | 8B |", ""]
    elif extra == 1:
        lines += ["```python", "def score(x):", "    return x.mean() / x.std()  # <not html>", "```", ""]
    elif extra == 2:
        lines += [f"![Figure {number}](/assets/img/{arxiv}.png \"Figure\")", ""]
    lines += ["## Results", rng.choice(KOREAN), "", "## Conclusion", rng.choice(ENGLISH), ""]
    return "\n".join(lines)


def post(rng: random.Random, index: int, day: datetime.date, papers: int | None = None) -> str:
    tags = rng.sample(TAGS, rng.randint(1, 3))
    tags_line = f"tags: [{', '.join(tags)}]" if index % 3 else f"tags: {' '.join(tags)}"
    front = [
        "---",
        "layout: post",
        f'title: "Daily Papers — {day} #{index}"',
        date_line(rng, day, index),
        tags_line,
        categories_line(rng, index),
    ]
    if index % 10 == 0:
        front.append(f'description: "Digest {index}: {rng.choice(ENGLISH)}"')
    if index % 25 == 0:
        front.append("author: Daily Papers Bot")
    front = [line for line in front if line] + ["---", ""]
    papers = papers if papers is not None else rng.randint(3, 10)
    body = [paper(rng, n, index) for n in range(1, papers + 1)]
    return "\n".join(front) + "\n" + "\n".join(body)


def write_posts(count: int, out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20251224)
    # Spread over the days before 2026-01-01, several a day when there are many.
    per_day = max(1, -(-count // 9000))
    last = datetime.date(2025, 12, 31)
    for index in range(count):
        day = last - datetime.timedelta(days=(count - 1 - index) // per_day)
        name = f"{day}-daily-papers-{index}.md"
        (out / name).write_text(post(rng, index, day), encoding="utf-8")


def write_mail_post(papers: int, out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    day = datetime.date(2025, 12, 25)
    # Index 1: a date with a time, categories as a list, tags as a list.
    (out / f"{day}-daily-papers.md").write_text(post(random.Random(20251225), 1, day, papers), encoding="utf-8")


BIG_SHAPES = {
    "plain": ("", lambda i: f"Paragraph {i}: the quick brown fox jumps over the lazy dog and keeps running "
              "through the field of words until the line is long enough to wrap.\n\n"),
    "table": ("| # | Model | Score | Notes |\n|---|---|---|---|\n",
              lambda i: f"| {i} | model-{i} | {i % 97}.{i % 10} | plain cell text here |\n"),
    "links": ("", lambda i: f"See [link {i}](https://example.org/p/{i}) and **bold {i}** with *em* and `code` "
              f"and [another](https://e.org/{i}).\n\n"),
    "em": ("", lambda i: "*a* "),
    "cells": ("|" + "h|" * 50 + "\n|" + "-|" * 50 + "\n", lambda i: "|" + "a|" * 50 + "\n"),
    "empty": ("|" + "h|" * 100 + "\n|" + "-|" * 100 + "\n", lambda i: "|" * 101 + "\n"),
}


def write_big_post(shape: str, size: int, out: pathlib.Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    head, unit = BIG_SHAPES[shape]
    parts, length, index = [head], len(head), 0
    while length < size:
        parts.append(unit(index))
        length += len(parts[-1])
        index += 1
    text = "---\ntitle: Big post\ndate: 2025-12-24\n---\n\n" + "".join(parts)
    (out / "2025-12-24-big.md").write_text(text, encoding="utf-8")


def write_subscribers(count: int, out: pathlib.Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    names = ["Kim", "Lee", "Park", "김철수", "이영희", "Reader", "Choi, Min-ho"]
    with out.open("w", encoding="utf-8") as file:
        file.write("email,name,tags\n")
        for index in range(count):
            name = rng.choice(names)
            name = f'"{name}"' if "," in name else name
            file.write(f"reader{index:06}@example.org,{name} {index},\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, help="write this many posts into --out (a folder)")
    parser.add_argument("--subscribers", type=int, help="write this many subscribers into --out (a CSV file)")
    parser.add_argument("--big-post", choices=sorted(BIG_SHAPES), help="write one post of this shape into --out")
    parser.add_argument("--mail-post", type=int, metavar="PAPERS", help="write one digest of PAPERS papers into --out")
    parser.add_argument("--bytes", type=int, default=1024 * 1024, help="with --big-post: the body's size")
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    if [args.posts, args.subscribers, args.big_post, args.mail_post].count(None) != 3:
        parser.error("give exactly one of --posts, --subscribers, --big-post and --mail-post")
    if args.posts is not None:
        write_posts(args.posts, args.out)
    elif args.subscribers is not None:
        write_subscribers(args.subscribers, args.out)
    elif args.mail_post is not None:
        write_mail_post(args.mail_post, args.out)
    else:
        write_big_post(args.big_post, args.bytes, args.out)


if __name__ == "__main__":
    main()
