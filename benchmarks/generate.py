"""Realistic zh_CN customer CSV for the benchmarks, fast and reproducible.

Faker per row would take minutes for a million rows, so names are drawn from
frequency-weighted surname and given-name lists with a fixed seed: common surnames
(王, 李, 张 ...) are as common as in China, two-character given names outnumber
one-character ones, and about 30% of rows are organisations named the usual way
(city + trade name + trade + legal form). Phones are written the way people write
them (spaces, dashes, +86, 0086, area codes, extensions); emails are QQ numbers,
pinyin handles or company mailboxes.

Usage: python benchmarks/generate.py --customers 100000 out.csv
"""

import argparse
import csv
import random
from collections.abc import Iterator
from pathlib import Path

HEADER = [
    "external_id", "kind", "name", "salutation", "status", "lost_reason", "owner",
    "birthday", "industry", "usual", "preferences", "needs", "tags", "phones", "emails",
    "addresses",
]
OWNERS = ["wang.li", "zhang.min", "liu.yang", "chen.jing", "zhao.lei"]

# Surname, approximate share of the population in percent, and a pinyin for emails.
_SURNAMES = """
王 7.12 wang|李 7.00 li|张 6.74 zhang|刘 5.38 liu|陈 4.53 chen|杨 3.08 yang|赵 2.29 zhao|
黄 2.23 huang|周 2.12 zhou|吴 2.05 wu|徐 1.67 xu|孙 1.54 sun|胡 1.31 hu|朱 1.26 zhu|
高 1.21 gao|林 1.18 lin|何 1.17 he|郭 1.15 guo|马 1.05 ma|罗 0.86 luo|梁 0.84 liang|
宋 0.81 song|郑 0.78 zheng|谢 0.72 xie|韩 0.68 han|唐 0.65 tang|冯 0.64 feng|于 0.62 yu|
董 0.61 dong|萧 0.58 xiao|程 0.57 cheng|曹 0.57 cao|袁 0.54 yuan|邓 0.54 deng|许 0.53 xu|
傅 0.51 fu|沈 0.50 shen|曾 0.50 zeng|彭 0.49 peng|吕 0.47 lv|苏 0.46 su|卢 0.46 lu|
蒋 0.46 jiang|蔡 0.44 cai|贾 0.42 jia|丁 0.41 ding|魏 0.41 wei|薛 0.40 xue|叶 0.39 ye|
阎 0.38 yan|余 0.37 yu|潘 0.36 pan|杜 0.35 du|戴 0.34 dai|夏 0.33 xia|钟 0.32 zhong|
汪 0.31 wang|田 0.31 tian|任 0.30 ren|姜 0.29 jiang|范 0.29 fan|方 0.28 fang|石 0.27 shi|
姚 0.27 yao|谭 0.26 tan|廖 0.25 liao|邹 0.25 zou|熊 0.24 xiong|金 0.24 jin|陆 0.23 lu|
郝 0.23 hao|孔 0.22 kong|白 0.22 bai|崔 0.21 cui|康 0.21 kang|毛 0.20 mao|邱 0.20 qiu|
秦 0.19 qin|江 0.19 jiang|史 0.18 shi|顾 0.18 gu|侯 0.17 hou|邵 0.17 shao|孟 0.16 meng|
龙 0.16 long|万 0.15 wan|段 0.15 duan|雷 0.14 lei|钱 0.14 qian|汤 0.14 tang|尹 0.13 yin|
黎 0.13 li|易 0.12 yi|常 0.12 chang|武 0.12 wu|乔 0.11 qiao|贺 0.11 he|赖 0.11 lai|
龚 0.10 gong|文 0.10 wen|欧阳 0.03 ouyang|司马 0.01 sima|诸葛 0.01 zhuge|上官 0.01 shangguan|
慕容 0.005 murong|皇甫 0.005 huangfu|令狐 0.003 linghu|尉迟 0.002 yuchi|饶 0.05 rao|
晏 0.02 yan|靳 0.03 jin|藺 0.002 lin|蒯 0.001 kuai|禤 0.001 xuan
"""
# Given-name characters, most frequent first (drawn with Zipf-like weights).
_GIVEN = (
    "伟芳娜敏静秀丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉文辉建国志红海婷雪晓子浩宇欣怡"
    "梓涵博轩佳琪嘉俊鹏飞斌波宁亮新凤兰琳颖倩慧丹萍晶鑫鸿翔瑞雨思晨阳林峰龙云春金成"
    "东正光荣德福安家和兴民振永胜宏庆天佩珍美凯铭睿泽豪若萱诗妍语嫣可馨悦昊然一诺"
    "沐辰逸景皓宸烨煜瑾珂婉蕾薇蓉莉菲梅莹洁雯璐露岚蓓琦瑶璇钰彤璐楠柏松杉桐梧栋"
    "卓毅恒锋锐钧铮霖澜淇湘潇汐溪沁怀远思源书航启程向北嘉懿梦瑛韵笑星"
)
_CITIES = (
    "北京 上海 广州 深圳 杭州 南京 苏州 成都 重庆 武汉 西安 天津 长沙 郑州 青岛 厦门 宁波 "
    "无锡 合肥 福州 济南 大连 沈阳 昆明 哈尔滨 长春 南昌 贵阳 南宁 石家庄 太原 佛山 东莞 "
    "温州 绍兴 嘉兴 常州 徐州 烟台 珠海 中山 惠州 泉州 兰州 海口 呼和浩特 乌鲁木齐"
).split()
_TRADE_CHARS = (
    "宏达华信金鼎瑞丰恒通鑫源盛泰隆兴昌荣辉煌远航新锐创捷博雅汇聚天成德润嘉禾广誉中科同创万象"
)
_TRADE_NAMES = (
    "宏达 华信 金鼎 瑞丰 恒通 鑫源 盛泰 隆兴 昌荣 辉煌 远航 新锐 创捷 博雅 汇聚 天成 德润 "
    "嘉禾 广誉 中科 同创 万象 永安 福瑞 顺发 和美 佳联 宝丽 海纳 东方 华夏 九州 长城 星辰 "
    "蓝天 绿源 金桥 银河 宇通 易达 联创 众诚 信达 明远 志高 卓越 开元 太平 安信 百盛 千禧"
).split()
_TRADES = (
    "贸易 科技 餐饮 建材 物流 服装 电子 食品 医药 文化传媒 教育咨询 酒店管理 汽车服务 "
    "家居 装饰工程 信息技术 网络科技 化工 机械设备 农业发展 旅游 广告 美容 健身 印刷 "
    "环保科技 新能源 供应链管理 房地产经纪 物业管理 茶业 酒业"
).split()
_FORMS = ["有限公司"] * 12 + ["股份有限公司"] * 3 + ["集团有限公司", "商行", "工作室", "经营部",
                                                      "有限公司分公司", "门店"]
_INDUSTRIES = ["零售", "餐饮", "制造", "物流", "教育", "医疗", "金融", "互联网", "建筑", "酒店"]
_USUAL = ["美式咖啡", "拿铁少糖", "铁观音", "普洱熟茶", "龙井", "A4 复印纸", "月度保养", "套餐B",
          "牛肉面加辣", "红烧肉", "年卡", "洗剪吹"]
_PREFS = ["只在工作日联系", "喜欢微信沟通", "不要晚上打电话", "发票抬头开公司", "偏好送货上门",
          "对价格敏感", "重视售后", "喜欢新品试用"]
_NEEDS = ["明年扩店，需要更多设备", "在比较三家供应商", "想要月结", "关注交货期", "需要定制包装"]
_TAGS = ["VIP", "老客户", "大客户", "潜在客户", "投诉过", "转介绍", "华东区", "华南区", "年度合同"]
_DISTRICTS = ["朝阳区", "海淀区", "浦东新区", "徐汇区", "天河区", "南山区", "西湖区", "鼓楼区",
              "武侯区", "江北区", "雁塔区", "高新区"]
_ROADS = ["中山路", "人民路", "解放路", "建设路", "和平路", "新华路", "长江路", "黄河路", "文化路",
          "科技园路", "滨江大道", "学府路"]
_MAIL_HOSTS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "gmail.com",
               "outlook.com", "139.com"]
_LOST_REASONS = ["poor_service"] * 68 + ["product_quality"] * 14 + ["price"] * 9 + [
    "competitor"] * 5 + ["moved"] * 3 + ["other"]

# Mobile prefixes the generator uses; 192 is valid but never used, so numbers under it
# are "unknown" in the search benchmark.
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "185", "186",
    "187", "188", "189", "198", "199",
]
UNKNOWN_MOBILE_PREFIX = "192"
# Part of the cached file's name: a change to what is generated makes a new file.
VERSION = 2
# Area code (without the trunk 0) and its local number length.
AREAS = [("10", 8), ("21", 8), ("20", 8), ("755", 8), ("571", 8), ("28", 8), ("27", 8),
         ("25", 8), ("512", 8), ("23", 8), ("29", 8), ("22", 8), ("24", 8), ("532", 8)]


def _parse_surnames() -> tuple[list[str], list[float], dict[str, str]]:
    names, weights, pinyin = [], [], {}
    for item in _SURNAMES.replace("\n", "").split("|"):
        name, share, latin = item.split()
        names.append(name)
        weights.append(float(share))
        pinyin[name] = latin
    return names, weights, pinyin


SURNAMES, SURNAME_WEIGHTS, SURNAME_PINYIN = _parse_surnames()
GIVEN_CHARS = list(dict.fromkeys(_GIVEN))
GIVEN_WEIGHTS = [1 / (rank + 8) for rank in range(len(GIVEN_CHARS))]


def mobile_formats(national: str, rng: random.Random) -> str:
    """One of the ways people write a Chinese mobile number."""
    a, b, c = national[:3], national[3:7], national[7:]
    style = rng.randrange(10)
    return (
        national,
        national,
        f"{a} {b} {c}",
        f"{a}-{b}-{c}",
        f"+86 {a} {b} {c}",
        f"+86-{a}-{b}-{c}",
        f"+86{national}",
        f"0086 {national}",
        f"0086-{a}-{b}-{c}",
        f"(+86) {a} {b} {c}",
    )[style]


def landline_formats(area: str, local: str, rng: random.Random) -> str:
    half = len(local) // 2
    style = rng.randrange(6)
    return (
        f"0{area}-{local}",
        f"(0{area}) {local[:half]}-{local[half:]}",
        f"0{area} {local[:half]} {local[half:]}",
        f"+86 {area} {local}",
        f"+86-{area}-{local[:half]}-{local[half:]}",
        f"0{area}{local}",
    )[style]


def _mobile(rng: random.Random, prefixes=MOBILE_PREFIXES) -> str:
    return rng.choice(prefixes) + f"{rng.randrange(10**8):08d}"


def _landline(rng: random.Random) -> str:
    area, length = rng.choice(AREAS)
    local = str(rng.randrange(2, 9)) + f"{rng.randrange(10 ** (length - 1)):0{length - 1}d}"
    if local.startswith("800"):  # 800 after an area code is no valid local number
        local = "6" + local[1:]
    text = landline_formats(area, local, rng)
    if rng.random() < 0.1:
        text += f" ext. {rng.randrange(100, 9999)}"
    return text


def _person_name(rng: random.Random, surname: str) -> str:
    given_len = 1 if rng.random() < 0.25 else 2
    return surname + "".join(rng.choices(GIVEN_CHARS, weights=GIVEN_WEIGHTS, k=given_len))


def _organisation_name(rng: random.Random) -> str:
    trade_name = (rng.choice(_TRADE_NAMES) if rng.random() < 0.6
                  else "".join(rng.sample(_TRADE_CHARS, 2)))
    city = rng.choice(_CITIES) if rng.random() < 0.8 else ""
    return city + trade_name + rng.choice(_TRADES) + rng.choice(_FORMS)


def rows(count: int, seed: int = 20240601) -> Iterator[list[str]]:
    rng = random.Random(seed)
    surnames = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS, k=count)
    for index in range(count):
        organisation = rng.random() < 0.3
        surname = surnames[index]
        if organisation:
            kind, name = "organisation", _organisation_name(rng)
            contact = _person_name(rng, surname)
            salutation = contact[:len(surname)] + rng.choice(("总", "经理", "老师"))
            phones = [_landline(rng)] if rng.random() < 0.8 else []
            if rng.random() < 0.5 or not phones:
                phones.append(mobile_formats(_mobile(rng), rng))
            emails = [f"{rng.choice(['info', 'sales', 'service', 'hr'])}"
                      f"@{SURNAME_PINYIN[surname]}{rng.randrange(100_000)}.com.cn"] \
                if rng.random() < 0.6 else []
            industry = rng.choice(_INDUSTRIES)
            birthday = ""
        else:
            kind, name = "individual", _person_name(rng, surname)
            salutation = surname + rng.choice(("先生", "女士", "老师", "总")) \
                if rng.random() < 0.7 else ""
            roll = rng.random()
            phones = ([] if roll < 0.05 else [mobile_formats(_mobile(rng), rng)])
            if roll > 0.9:
                phones.append(mobile_formats(_mobile(rng), rng))
            mail = rng.random()
            if mail < 0.35:
                emails = [f"{rng.randrange(10**5, 10**10)}@qq.com"]
            elif mail < 0.6:
                emails = [f"{SURNAME_PINYIN[surname]}.{rng.randrange(10**4)}"
                          f"@{rng.choice(_MAIL_HOSTS)}"]
            else:
                emails = []
            industry = ""
            birthday = (f"{rng.randrange(1950, 2006)}-{rng.randrange(1, 13):02d}-"
                        f"{rng.randrange(1, 29):02d}") if rng.random() < 0.4 else ""
        status_roll = rng.random()
        status = "prospect" if status_roll < 0.15 else "lost" if status_roll > 0.92 else "active"
        lost_reason = rng.choice(_LOST_REASONS) if status == "lost" else ""
        owner = rng.choice(OWNERS) if rng.random() < 0.2 else ""
        tags = ";".join(rng.sample(_TAGS, rng.randrange(1, 3))) if rng.random() < 0.3 else ""
        address = (f"{rng.choice(_CITIES)}市{rng.choice(_DISTRICTS)}{rng.choice(_ROADS)}"
                   f"{rng.randrange(1, 999)}号") if rng.random() < 0.5 else ""
        yield [
            f"CRM{index + 1:08d}", kind, name, salutation, status, lost_reason, owner, birthday,
            industry,
            rng.choice(_USUAL) if rng.random() < 0.2 else "",
            rng.choice(_PREFS) if rng.random() < 0.2 else "",
            rng.choice(_NEEDS) if rng.random() < 0.1 else "",
            tags, ";".join(phones), ";".join(emails), address,
        ]


def write_csv(path: Path, count: int, seed: int = 20240601) -> None:
    """UTF-8 with a BOM, as Chinese Excel saves "CSV UTF-8"."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        writer.writerows(rows(count, seed))
    partial.replace(path)


def unknown_mobile(rng: random.Random) -> str:
    return _mobile(rng, [UNKNOWN_MOBILE_PREFIX])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    write_csv(args.path, args.customers, args.seed)
