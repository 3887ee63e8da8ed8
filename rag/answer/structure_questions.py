"""Which questions ask about a document's structure, in English, German, Spanish, French,
Italian, Portuguese and Russian: who wrote it, who commented, when it appeared, where it was
published, its title and its headings; and "who said that ...".

A question's own words that say *what* is asked ("who", "wrote", "artículo", "veröffentlicht")
are role words; the rest say which document it is about (topic_terms).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.language.analysis import query_terms, stop_words
from rag.language.scripts import tokens
from rag.language.structure import (
    AUTHOR,
    BYLINE,
    DATE,
    HEADING,
    HEADLINE,
    POSTED,
    PUBLICATION,
    PUBLISHED,
    TITLE,
)

# Comment words, lower case only: "the Washington Post article" is about a newspaper, not a post.
_POST_WORDS = (
    r"(?-i:comment(?:s|ed|er)?|post(?:s|ed|er)?|repl(?:y|ied|ies)|respon(?:se|ded)|forum"
    r"|kommentar(?:e|s)?|kommentiert|gepostet|beitrag|comentario(?:s)?|coment[oó]|commentaire(?:s)?"
    r"|comment[ée]|post[ée]|commento|commenti|commentato|coment[aá]rio(?:s)?|comentou"
    r"|комментари\w*|прокомментировал\w*)"
)
_WHO = r"(?:who|wer|qui[eé]n(?:es)?|qui|chi|quem|кто)"
_WHEN = (
    r"(?:when|what\s+(?:(?:is|was)\s+the\s+)?(?:date|day|time)|which\s+(?:date|day)|wann|an\s+welchem\s+tag|cu[aá]ndo|quand"
    r"|quando|когда)"
)
_WROTE = (
    r"(?:wrote|write|writes|written|authored|penned|reported|byline|geschrieben|verfasst|schrieb"
    r"|escribi[oó]|escrito|redact[oó]|[ée]crit|r[ée]dig[ée]|scritto|escreveu|написал\w*|автор\w*)"
)
_AUTHOR_NOUN = (
    r"(?:authors?|writers?|reporters?|autor(?:in|en|a|es)?|verfasser(?:in)?|auteurs?|autore|autori)"
)
_APPEARED = (
    r"(?:published|written|wrote|dated|released|appeared|issued|updated|printed|ver[öo]ffentlicht"
    r"|erschienen|publicad[oa]|public[oó]|publi[ée]e?|paru|parue|pubblicat[oa]|опубликован\w*"
    r"|вышл[аи]|вышел)"
)
_PUBLISHERS = (
    r"(?:newspaper|publication|outlet|magazine|journal|site|website|publisher|news\s+(?:site|outlet|agency)"
    r"|zeitung|zeitschrift|webseite|peri[oó]dico|diario|revista|giornale|rivista"
    r"|jornal|газет\w*|издани\w*|журнал\w*)"
)
_PUBLISHED = r"(?:published|publishes|printed|prints|ran|runs|carried|carries)\b"
_WHICH = (
    r"(?:which|what|welche[rsnm]?|qu[eé]|cu[aá]l(?:es)?|quel(?:le)?s?|quale|qual|какая|какое|какой"
    r"|в\s+какой)"
)
# A title is the document's only with a word for the document near it: "under what title is the
# hymn known", "как называется алфавит" ask for another thing's name.
_TITLE = r"(?:title|titel|t[ií]tulo|titre|titolo)"
_HEADLINE = r"(?:headline|[üu]berschrift|titular|заголов\w*)"
_DOCUMENT = (
    r"(?:article|story|piece|post|page|document|report|essay|blog|chapter|column|paper|text|notes?|memo"
    r"|analysis|commentary|editorial|op-ed|brief|briefing|study|book"
    r"|letter|newsletter|guide|manual|review|release|e-?mail|thread|file"
    r"|artikel|beitrag|bericht|dokument|art[ií]culo|nota|reportaje|texto|documento|texte|articolo"
    r"|testo|artigo|mat[ée]ria|стать\w*|текст\w*|документ\w*|материал\w*)"
)
# (question pattern, the kinds that answer it, best first). The first pattern that matches wins.
_QUESTIONS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(
            rf"\b{_WHO}\b.*\b{_POST_WORDS}|\b{_POST_WORDS}\b.*\bby whom\b|\bwho\b.*\bcommenter\b"
            rf"|\b(which|what)\s+(user|person|member|reader|name)\b.*\b{_POST_WORDS}"
            r"|\bname\s+of\s+the\s+(commenter|poster)\b|\b(commenter|poster)['’]s\s+name\b",
            re.I,
        ),
        (AUTHOR,),
    ),
    (
        re.compile(
            rf"\b{_WHO}\b.*\b{_WROTE}\b|\b{_AUTHOR_NOUN}['’]s?\s+names?\b|\bnames?\s+of\s+the\s+{_AUTHOR_NOUN}\b"
            rf"|\b{_AUTHOR_NOUN}\s+(of|for|behind|des|der|del|de|du|di|do)\b|\bwhose\s+(article|story|piece|report)\b"
            rf"|\bwritten\s+by\s+whom\b|\b{_WHO}\s+(is|are|was|were|ist|war|es|fue|est|[èe]|é)\s+"
            rf"(the|der|die|el|la|l['’]|il|o|a)?\s*{_AUTHOR_NOUN}\b",
            re.I,
        ),
        (BYLINE, AUTHOR),
    ),
    (re.compile(rf"\b{_WHEN}\b.*\b{_POST_WORDS}", re.I), (POSTED, DATE)),
    (
        re.compile(
            rf"\b{_WHEN}\b.*\b{_APPEARED}\b|\b(publication|release)\s+date\b|\bdate\s+of\s+publication\b",
            re.I,
        ),
        # Not a comment's timestamp: "when was the article published" on a page with only comments'
        # dates has no answer there.
        (PUBLISHED, DATE),
    ),
    (
        re.compile(
            rf"\b{_WHICH}\s+{_PUBLISHERS}\b"
            r"|\b(published|printed|run|ran|carried)\s+(in|by)\s+(which|what|whom)\b"
            rf"|\b({_PUBLISHERS}|organi[sz]ation|company)\s+(that|which)?\s*{_PUBLISHED}"
            rf"|\b(which|what)\s+(organi[sz]ation|company)\s+{_PUBLISHED}|\bwho\s+{_PUBLISHED}",
            re.I,
        ),
        (PUBLICATION,),
    ),
    (
        re.compile(
            rf"\b({_WHICH}|wie|c[oó]mo|comment|come|como|как)\b.*"
            rf"(\b{_TITLE}\b.*\b{_DOCUMENT}\b|\b{_DOCUMENT}\b.*\b{_TITLE}\b|\b{_HEADLINE}\b)"
            r"|\b(what|which)('s|\s+is|\s+was)\s+(the|its)\s+title\s*\??\s*$",
            re.I,
        ),
        (HEADLINE, TITLE),
    ),
    (
        re.compile(
            r"\b(what|which|list)\b.*\b((sub)?headings|section\s+(titles|headings|names))\b"
            r"|\bwhat\s+are\s+the\s+(main\s+)?sections\s+of\b"
            r"|\b([üu]berschriften|zwischen[üu]berschriften|encabezados|intertitres|sottotitoli|подзаголов\w*)\b",
            re.I,
        ),
        (HEADING,),
    ),
)
# Chinese, Arabic and Hindi: no capitals and, in Chinese, no spaces, so no word boundaries;
# Hindi's vowel signs are not word characters either. Checked after the patterns above.
_CASELESS_QUESTIONS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        re.compile(
            r"谁(?:发表|发布|写|留|发)了?(?:这条|该|此|那条)?评论|评论(?:者|人|的人)是谁|谁评论"
            r"|من (?:علق|كتب التعليق|نشر التعليق|صاحب التعليق)|صاحب التعليق"
            r"|किसने (?:.{0,20})?टिप्पणी|टिप्पणी (?:.{0,20})?किसने|टिप्पणीकार कौन"
        ),
        (AUTHOR,),
    ),
    (
        re.compile(
            r"谁写|作者是谁|谁是作者|由谁(?:撰写|写|执笔)|记者是谁|作者叫什么"
            r"|من كتب|من (?:هو|هي) (?:كاتب|كاتبة|مؤلف)|(?:كاتب|كاتبة|مؤلف) (?:المقال|المقالة|التقرير|الخبر)"
            r"|किसने (?:.{0,30})?लिख|(?:लेखक|लेखिका) कौन|कौन (?:है|हैं) (?:.{0,20})?(?:लेखक|लेखिका)"
        ),
        (BYLINE, AUTHOR),
    ),
    (
        re.compile(
            r"评论.{0,12}(?:什么时候|何时|哪天)|(?:什么时候|何时|哪天).{0,12}评论|متى .{0,30}التعليق"
            r"|टिप्पणी .{0,30}कब|कब .{0,30}टिप्पणी"
        ),
        (POSTED, DATE),
    ),
    (
        re.compile(
            r"(?:什么时候|何时|哪天|哪一天|哪年|哪一年).{0,12}(?:发表|发布|刊登|刊发|出版)|(?:发表|发布|出版)(?:时间|日期)"
            r"|متى (?:نشر|نُشر|نشرت|نُشرت|صدر|صدرت)|تاريخ (?:نشر|النشر|صدور)"
            r"|कब (?:.{0,20})?(?:प्रकाशित|छप)|प्रकाशन (?:की )?(?:तिथि|तारीख)"
        ),
        (PUBLISHED, DATE),
    ),
    (
        re.compile(
            r"(?:哪家|哪个|哪一家|什么)(?:报纸|报社|媒体|网站|杂志|出版物|通讯社).{0,12}(?:发表|发布|刊登|刊发|报道)"
            r"|(?:أي|أية|ما) (?:صحيفة|جريدة|موقع|مجلة|وكالة)"
            r"|किस (?:अखबार|अख़बार|समाचार पत्र|वेबसाइट|पत्रिका)"
        ),
        (PUBLICATION,),
    ),
    (
        re.compile(
            r"(?:文章|报道|这篇|新闻).{0,8}(?:标题|题目)|(?:标题|题目)是什么"
            r"|عنوان (?:المقال|المقالة|التقرير|الخبر)|(?:लेख|रिपोर्ट|खबर|ख़बर) का शीर्षक|शीर्षक क्या"
        ),
        (HEADLINE, TITLE),
    ),
)
# Their role words, taken out of the question before its topic terms are found.
_CASELESS_ROLE_WORDS = re.compile(
    r"什么时候|何时|哪一天|哪一年|哪天|哪年|哪家|哪一家|哪个|什么|是谁|谁|作者|记者|评论者|评论|撰写|执笔|写|发表|发布"
    r"|刊登|刊发|出版|报道|报纸|报社|媒体|网站|杂志|文章|这篇|这条|新闻|标题|题目|时间|日期|了|的|是|关于"
    r"|(?<!\S)(?:من|كتب|كاتب|كاتبة|مؤلف|المقال|المقالة|التقرير|الخبر|التعليق|علق|صاحب|متى|نشر|نُشر|نشرت"
    r"|نُشرت|صدر|صدرت|تاريخ|النشر|أي|أية|ما|صحيفة|جريدة|موقع|مجلة|عنوان|هو|هي|عن)(?=[\s?!.,;:؟،।]|$)"
    r"|(?<!\S)(?:किसने|किस|कौन|कब|लिखा|लिखी|लिखे|लेखक|लेखिका|टिप्पणी|टिप्पणीकार|प्रकाशित|छपा|छपी|प्रकाशन"
    r"|तिथि|तारीख|अखबार|अख़बार|समाचार|पत्र|वेबसाइट|पत्रिका|लेख|रिपोर्ट|खबर|ख़बर|शीर्षक|क्या|का|की|के|है|हैं"
    r"|ने|में|पर|बारे|यह|इस|हुआ|हुई|गया|गई)(?=[\s?!.,;:؟،।]|$)"
)
# "Who said that ...?": the asker wants whoever wrote the sentence that says it (a commenter).
_ATTRIBUTION = re.compile(
    r"^\s*who\s+(said|says|wrote|writes|argued|argues|claimed|claims|stated|states|suggested|suggests"
    r"|noted|notes|commented|insisted|insists|warned|warns|believes|thinks|thought)\s+(that\b|[\"“'‘:])"
    r"|^\s*wer\s+(sagte|sagt|schrieb|meinte|behauptete)\s*,?\s+(dass|[\"„“'‚:])"
    r"|^\s*¿?\s*qui[eé]n\s+(dijo|escribi[oó]|afirm[oó]|opin[oó])\s+(que\b|[\"“«'‘:])"
    r"|^\s*qui\s+a\s+(dit|[ée]crit|affirm[ée])\s+(que|qu['’]|[\"“«'‘:])",
    re.I,
)
# Words of such questions that say what is asked, not what the document is about.
_ROLE_WORDS = frozenset(
    """who whom whose when date day time wrote write writes written author authors authored writer
    writers penned reported reporter reporters byline article articles story piece report post posts
    posted poster comment comments commented commenter reply replied response published dated
    released appeared issued updated printed title headline document page blog forum what which
    newspaper paper publication outlet magazine journal site website news run ran carried publisher
    publishes prints runs carries organization organisation company agency heading headings section
    sections subheadings list name names person persons people user users someone individual identity
    left leave leaves made make makes appear appears analysis commentary editorial study book
    wer wann geschrieben verfasst schrieb autor autorin verfasser artikel bericht beitrag kommentar
    kommentare kommentiert gepostet veröffentlicht erschienen titel überschrift überschriften zeitung
    zeitschrift webseite welche welcher welches
    quién quiénes cuándo escribió escrito redactó autora artículo comentario comentarios comentó
    publicó publicado publicada título titular periódico diario revista encabezados qué
    qui quand écrit rédigé auteur auteurs commentaire commentaires commenté posté publié publiée
    paru parue titre quel quelle
    chi quando scritto autore articolo commento pubblicato pubblicata titolo giornale rivista
    quem escreveu artigo comentário publicado jornal
    кто когда написал написала автор статья статью статьи комментарий опубликована опубликован
    заголовок название газета""".split()
)


@dataclass(frozen=True)
class StructureQuestion:
    """What a structure question asks for (kinds, best first)."""

    kinds: tuple[str, ...]
    question: str

    def topic_terms(self, language: str) -> frozenset[str]:
        """The question's terms that say which document it is about, analysed as text in that
        language is indexed (role words and stop words left out; none when nothing else is left)."""
        stops = stop_words(language)
        words = tokens(_CASELESS_ROLE_WORDS.sub(" ", self.question))
        kept = [
            token
            for position, token in enumerate(words)
            if token.lower() not in stops
            and (token.lower() not in _ROLE_WORDS or _names_something(token, position, language))
        ]
        return frozenset(query_terms(" ".join(kept), [language])) if kept else frozenset()


def _names_something(token: str, position: int, language: str) -> bool:
    """Whether a role word is part of a name ("the Washington Post article", "the Small Wars
    Journal page"): capitalised after the first word, in a language that capitalises only names."""
    return position > 0 and token[:1].isupper() and token[1:].islower() and language != "de"


def asked_structure(question: str) -> StructureQuestion | None:
    """The structure kinds the question asks for (best first), or None for any other question."""
    if asks_attribution(question):  # about a sentence's author, not the document's
        return None
    for pattern, kinds in (*_QUESTIONS, *_CASELESS_QUESTIONS):
        if pattern.search(question):
            return StructureQuestion(kinds, question)
    return None


def asks_attribution(question: str) -> bool:
    """Whether the question asks who said or wrote something ("Who said that ...?")."""
    return bool(_ATTRIBUTION.match(question))
