"""English names of divisions: the official name where romanising the Chinese one gets it wrong.

Most divisions' English names are their Chinese names in pinyin with the type spelled out
(`昆山市` → `Kunshan City`), which `lib.names.english_division_name` writes by the rules of
Hanyu Pinyin orthography (apostrophes, ü, ethnic groups of autonomous areas). That is wrong in
three kinds of place, and this table gives the name the Chinese government uses in English
(the State Council's and the provincial governments' English pages, and the Ministry of Civil
Affairs' gazetteer):

- the provincial-level divisions whose English names are not their pinyin: Inner Mongolia,
  Shaanxi (spelled apart from Shanxi), Hong Kong and Macao, the four municipalities;
- names from Mongolian, Tibetan and Uygur, written in their own romanisation (Hohhot, Ordos,
  Lhasa, Xigaze, Urumqi, Kashgar, Hotan, Ili…), for the prefecture-level divisions and the
  county-level cities that are the seats of those prefectures;
- names whose characters the romaniser reads wrongly (长治 is Changzhi, 朝阳 Chaoyang, 漯河 Luohe).

Each row holds the Chinese name it was written for: a code that GB/T 2260 gives to another
place later no longer matches, and the name falls back to the romanised one.
"""

from epigrid.lib.names import english_division_name

OFFICIAL: dict[str, tuple[str, str]] = {
    # provincial level
    "110000": ("北京市", "Beijing Municipality"),
    "120000": ("天津市", "Tianjin Municipality"),
    "150000": ("内蒙古自治区", "Inner Mongolia Autonomous Region"),
    "310000": ("上海市", "Shanghai Municipality"),
    "500000": ("重庆市", "Chongqing Municipality"),
    "610000": ("陕西省", "Shaanxi Province"),
    "810000": ("香港特别行政区", "Hong Kong SAR"),
    "820000": ("澳门特别行政区", "Macao SAR"),
    # prefecture level: characters read wrongly
    "140400": ("长治市", "Changzhi City"),
    "211300": ("朝阳市", "Chaoyang City"),
    "230100": ("哈尔滨市", "Harbin City"),
    "230200": ("齐齐哈尔市", "Qiqihar City"),
    "411100": ("漯河市", "Luohe City"),
    # Inner Mongolia: cities and leagues
    "150100": ("呼和浩特市", "Hohhot City"),
    "150600": ("鄂尔多斯市", "Ordos City"),
    "150700": ("呼伦贝尔市", "Hulunbuir City"),
    "150800": ("巴彦淖尔市", "Bayannur City"),
    "150900": ("乌兰察布市", "Ulanqab City"),
    "152200": ("兴安盟", "Hinggan League"),
    "152500": ("锡林郭勒盟", "Xilingol League"),
    "152900": ("阿拉善盟", "Alxa League"),
    "150702": ("海拉尔区", "Hailar District"),
    "152201": ("乌兰浩特市", "Ulanhot City"),
    "152501": ("二连浩特市", "Erenhot City"),
    "152502": ("锡林浩特市", "Xilinhot City"),
    # Sichuan, Qinghai: Tibetan autonomous prefectures
    "513300": ("甘孜藏族自治州", "Garze Tibetan Autonomous Prefecture"),
    "632600": ("果洛藏族自治州", "Golog Tibetan Autonomous Prefecture"),
    # Xizang
    "540100": ("拉萨市", "Lhasa City"),
    "540200": ("日喀则市", "Xigaze City"),
    "540202": ("桑珠孜区", "Samzhubze District"),
    "540300": ("昌都市", "Qamdo City"),
    "540400": ("林芝市", "Nyingchi City"),
    "540600": ("那曲市", "Nagqu City"),
    "542500": ("阿里地区", "Ngari Prefecture"),
    # Xinjiang
    "650100": ("乌鲁木齐市", "Urumqi City"),
    "650200": ("克拉玛依市", "Karamay City"),
    "650400": ("吐鲁番市", "Turpan City"),
    "652700": ("博尔塔拉蒙古自治州", "Bortala Mongol Autonomous Prefecture"),
    "652800": ("巴音郭楞蒙古自治州", "Bayingolin Mongol Autonomous Prefecture"),
    "652801": ("库尔勒市", "Korla City"),
    "652900": ("阿克苏地区", "Aksu Prefecture"),
    "652901": ("阿克苏市", "Aksu City"),
    "653000": ("克孜勒苏柯尔克孜自治州", "Kizilsu Kirgiz Autonomous Prefecture"),
    "653001": ("阿图什市", "Artux City"),
    "653100": ("喀什地区", "Kashgar Prefecture"),
    "653101": ("喀什市", "Kashgar City"),
    "653200": ("和田地区", "Hotan Prefecture"),
    "653201": ("和田市", "Hotan City"),
    "654000": ("伊犁哈萨克自治州", "Ili Kazak Autonomous Prefecture"),
    "654003": ("奎屯市", "Kuytun City"),
    "654300": ("阿勒泰地区", "Altay Prefecture"),
    "654301": ("阿勒泰市", "Altay City"),
    "659002": ("阿拉尔市", "Aral City"),
    "659003": ("图木舒克市", "Tumxuk City"),
}


def english_name(code: str, name_zh: str) -> str:
    """The division's English name: the official one when the table has it for this name,
    otherwise the name romanised."""
    official = OFFICIAL.get(code)
    if official is not None and official[0] == name_zh:
        return official[1]
    return english_division_name(name_zh)
