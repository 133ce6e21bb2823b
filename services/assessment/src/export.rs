//! Rankings as CSV for the joint conference: UTF-8 with a byte-order mark,
//! because spreadsheet programs otherwise read the Chinese names in the
//! local code page.

use civicgrid_proto::assessment::v1 as pb;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

fn number(value: Option<f64>) -> String {
    value.map_or_else(
        || "数据不足 insufficient data".to_owned(),
        |v| format!("{v:.2}"),
    )
}

/// One row per card, in rank order: rank, subject, name, score, then each
/// indicator's value and points (the first card's indicators set the
/// columns: every card of a ranking has the same ones).
pub fn ranking_csv(ranking: &pb::Ranking) -> Result<Vec<u8>, csv::Error> {
    let mut out = BOM.to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        let mut header = vec![
            "名次 Rank".to_owned(),
            "对象 Subject".to_owned(),
            "名称 Name".to_owned(),
            "得分 Score".to_owned(),
        ];
        if let Some(first) = ranking.cards.first() {
            for line in &first.indicators {
                header.push(format!("{} 值 value", line.display_name));
                header.push(format!("{} 得分 points", line.display_name));
            }
        }
        writer.write_record(&header)?;
        for card in &ranking.cards {
            let mut row = vec![
                if card.rank > 0 {
                    card.rank.to_string()
                } else {
                    String::new()
                },
                card.subject.clone(),
                card.display_name.clone(),
                number(card.score),
            ];
            for line in &card.indicators {
                row.push(number(line.value));
                row.push(number(line.points));
            }
            writer.write_record(&row)?;
        }
        writer.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_starts_with_the_bom_and_quotes_what_needs_quoting() {
        let ranking = pb::Ranking {
            cards: vec![
                pb::ScoreCard {
                    subject: "cells/st1".into(),
                    display_name: "青山街道, Qingshan".into(),
                    score: Some(41.1667),
                    rank: 1,
                    indicators: vec![pb::IndicatorScore {
                        display_name: "满意率".into(),
                        value: Some(1.0),
                        points: Some(100.0),
                        ..Default::default()
                    }],
                },
                pb::ScoreCard {
                    subject: "cells/st2".into(),
                    display_name: "河西街道".into(),
                    indicators: vec![pb::IndicatorScore::default()],
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let bytes = ranking_csv(&ranking).unwrap();
        assert!(bytes.starts_with(BOM));
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "名次 Rank,对象 Subject,名称 Name,得分 Score,满意率 值 value,满意率 得分 points"
        );
        assert_eq!(
            lines[1],
            "1,cells/st1,\"青山街道, Qingshan\",41.17,1.00,100.00"
        );
        assert_eq!(
            lines[2],
            ",cells/st2,河西街道,数据不足 insufficient data,数据不足 insufficient data,数据不足 insufficient data"
        );
    }
}
