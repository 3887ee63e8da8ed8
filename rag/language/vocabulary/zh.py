"""Chinese."""

from rag.language.vocabulary import Vocabulary

VOCABULARY = Vocabulary(
    code="zh",
    name="Chinese",
    has_capitals=False,
    asks_commenter=(
        r"谁(?:发表|发布|写|留|发)了?(?:这条|该|此|那条)?评论",
        r"评论(?:者|人|的人)是谁",
        r"谁评论",
    ),
    asks_author=(r"谁写", r"作者是谁", r"谁是作者", r"由谁(?:撰写|写|执笔)", r"记者是谁", r"作者叫什么"),
    asks_comment_date=(r"评论.{0,12}(?:什么时候|何时|哪天)", r"(?:什么时候|何时|哪天).{0,12}评论"),
    asks_published=(
        r"(?:什么时候|何时|哪天|哪一天|哪年|哪一年).{0,12}(?:发表|发布|刊登|刊发|出版)",
        r"(?:发表|发布|出版)(?:时间|日期)",
    ),
    asks_publication=(
        r"(?:哪家|哪个|哪一家|什么)(?:报纸|报社|媒体|网站|杂志|出版物|通讯社).{0,12}(?:发表|发布|刊登|刊发|报道)",
    ),
    asks_title=(r"(?:文章|报道|这篇|新闻).{0,8}(?:标题|题目)", r"(?:标题|题目)是什么"),
    # Longest first: they are cut out of a question written without spaces.
    phrase_role_words=tuple(
        """什么时候 何时 哪一天 哪一年 哪天 哪年 哪家 哪一家 哪个 什么 是谁 谁 作者 记者 评论者 评论 撰写 执笔 写
        发表 发布 刊登 刊发 出版 报道 报纸 报社 媒体 网站 杂志 文章 这篇 这条 新闻 标题 题目 时间 日期 了 的 是
        关于""".split()
    ),
    asks_count=("多少", "几"),
    asks_year=("什么时候", "哪一年", "哪年", "何时"),
    labelled_bylines=(r"(?:作者|撰文|记者|文)\s*[:：/／]\s*", r"记者\s+"),
    # Single characters of grammar that never start or end a content word; other one-character
    # stop words (中, 大, 日...) are halves of content words (中国, 大学, 日本) and stay.
    particles=frozenset("的了吗呢吧啊和与及或被把"),
)
