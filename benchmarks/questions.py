"""Mixed-language questions about the sample articles, for latency benchmarks and smoke tests.

Traditional-Chinese questions are the simplified ones converted with OpenCC.
"""

from __future__ import annotations

ZH_HANS = [
    "兰州市委的决定要求什么?",
    "兰州市委十四届八次全会审议通过了什么决定?",
    "细胞工程、头雁工程、先锋工程、强基工程是什么?",
    "如何推进基层党组织全面进步全面过硬?",
    "基层党建工作的责任如何落实?",
    "怎样选出群众满意的好干部?",
    "城市基层党建为什么重要?",
    "社区党组织的作用是什么?",
    "《关于加强和改进城市基层党的建设工作的意见》是谁印发的?",
    "城市党建工作做得好不好要看什么?",
    "如何提升基层党组织组织力?",
    "朝阳区是怎样加强党的政治建设的?",
    "朝我说专项行动是什么?",
    "基层党组织为什么是团结凝聚群众的前沿阵地?",
    "习近平总书记在文亭巷社区说了什么?",
    "郝家桥村获得了什么称号?",
    "三个如何的重要指示是什么?",
    "光山县是什么样的县?",
    "总书记为何关心党建引领基层治理?",
    "把抓好党建作为最大的政绩是什么时候提出的?",
    "城市党建的系统性是什么意思?",
    "城市党建的融合性体现在哪里?",
    "推进城市党建为什么要协同?",
    "城市的核心是什么?",
    "城镇化率达到多少?",
    "为什么要把城市党建工作摆在突出位置?",
    "在职党员到社区报到体现了什么融合?",
    "党建引领基层治理的根本目的是什么?",
    "北京的接诉即办改革是怎么回事?",
    "基层党组织如何发挥战斗堡垒作用?",
    "2022年世界杯冠军是谁?",
    "今天的天气怎么样?",
    "如何做红烧肉?",
    "基层干部考核机制怎样完善?",
    "党员先锋模范作用怎样发挥?",
]

EN = [
    "What does the Lanzhou decision require?",
    "What did the eighth plenary session of the Lanzhou municipal committee adopt?",
    "What are the cell, lead goose, vanguard and foundation projects?",
    "How should grassroots Party organizations make all-round progress?",
    "How is responsibility for grassroots Party building assigned?",
    "How are good cadres selected?",
    "Why is urban grassroots Party building important?",
    "What role do community Party organizations play?",
    "Who issued the opinions on strengthening urban grassroots Party building?",
    "How do we judge whether urban Party building is done well?",
    "How can the organizational strength of grassroots Party organizations be improved?",
    "How did Chaoyang District strengthen political building?",
    "What did Xi Jinping say at the Wentingxiang community in Xining?",
    "What title did Haojiaqiao village receive?",
    "What were the three 'how' instructions given in Fuzhou?",
    "Why does the General Secretary care about Party-building-led grassroots governance?",
    "When was Party building called the greatest political achievement?",
    "What does systematic urban Party building mean?",
    "What is the core of a city?",
    "What is the fundamental purpose of Party-led grassroots governance?",
    "What is Beijing's reform of responding to complaints?",
    "How do grassroots Party organizations act as fighting fortresses?",
    "Who won the 2022 FIFA World Cup?",
    "What is the weather today?",
    "How do I cook braised pork?",
    "How should the assessment of grassroots cadres be improved?",
    "What problems did the speech say urban Party building has?",
    "What is Guangshan county?",
    "How many Party members were guided in Chaoyang?",
    "What did the Xi'an article say about community Party organizations?",
    "How does Party building relate to economic development in cities?",
    "What are the requirements for the city's grassroots Party organizations?",
    "What is the vanguard role of Party members?",
    "Why must urban Party building be strengthened?",
    "What is the red line of social governance?",
]


def zh_hant() -> list[str]:
    from index.text.textnorm import to_traditional

    return [to_traditional(q) for q in ZH_HANS]


def mixed() -> list[str]:
    """105 questions: simplified, traditional and English, interleaved."""
    out: list[str] = []
    for triple in zip(ZH_HANS, zh_hant(), EN, strict=True):
        out.extend(triple)
    return out
